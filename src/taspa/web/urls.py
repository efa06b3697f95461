from django.urls import path

from taspa.web.views import (
    archive,
    console,
    court_admin,
    courts,
    dashboards,
    judge,
    people,
    playback,
    regional,
    scheduling,
    shell,
)
from taspa.web.views import search as search_views

app_name = "web"
urlpatterns = [
    path("", shell.home, name="home"),
    path("language/", shell.set_language, name="set_language"),
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    path("hearings/<int:hearing_id>/console", console.console, name="console"),
    path("hearings/<int:hearing_id>/console/timeline", console.timeline, name="console_timeline"),
    path("hearings/<int:hearing_id>/console/agent", console.agent, name="console_agent"),
    path("hearings/<int:hearing_id>/console/listen", console.listen, name="console_listen"),
    path("hearings/<int:hearing_id>/console/state", console.state, name="console_state"),
    path("hearings/<int:hearing_id>/console/controls", console.controls, name="console_controls"),
    path(
        "hearings/<int:hearing_id>/console/<slug:operation>",
        console.operate,
        name="console_operate",
    ),
    path("recordings/search", search_views.search, name="search"),
    path("recordings/<int:recording_id>", playback.recording_page, name="recording"),
    path("recordings/<int:recording_id>/verify", playback.verify, name="recording_verify"),
    path(
        "recordings/<int:recording_id>/files/<str:name>",
        playback.playback_file,
        name="playback_file",
    ),
    # Every role's work (issue 16): scheduling, the administrator's incidents, the archive.
    path("hearings/new", scheduling.schedule, name="hearing_schedule"),
    path("hearings/<int:hearing_id>/edit", scheduling.edit, name="hearing_edit"),
    path("incidents/", court_admin.incidents, name="incidents"),
    path("incidents/<int:incident_id>/forward", court_admin.forward, name="incident_forward"),
    path("hearings/<int:hearing_id>/acts", court_admin.draw_up, name="act_draw_up"),
    path("acts/<int:act_id>/sign", court_admin.sign, name="act_sign"),
    path("media/", archive.media, name="media"),
    path("recordings/<int:recording_id>/medium", archive.write, name="medium_write"),
    path("media/<int:medium_id>", archive.medium, name="medium"),
    path("media/<int:medium_id>/<slug:step>", archive.medium_step, name="medium_step"),
    path("courts/<int:court_id>/destruction", archive.destruction, name="destruction"),
    path("cases/<int:case_id>/inventory", archive.inventory, name="inventory"),
    path("cases/<int:case_id>/archive-acceptance", archive.accept_case, name="case_accept"),
    path("destruction-acts/<int:act_id>/sign", archive.destruction_sign, name="destruction_sign"),
    # The judge's decisions (issue 16): the minutes (R3.4, R9), closed parts after sealing (R32).
    path("hearings/<int:hearing_id>/minutes", judge.minutes, name="minutes_decision"),
    path(
        "recordings/<int:recording_id>/closed-portions",
        judge.closed_portions,
        name="closed_portions",
    ),
    path(
        "recordings/<int:recording_id>/closed-portions/<int:portion_id>/correct",
        judge.correct_portion,
        name="closed_portion_correct",
    ),
    path(
        "recordings/<int:recording_id>/closed-portions/<int:portion_id>/end",
        judge.end_portion,
        name="closed_portion_end",
    ),
    # The regional judicial administration (R9, R18, R23): notices, appeal acts, replication.
    path("regional/", regional.regional, name="regional"),
    path("regional/replication", regional.replication_status, name="regional_replication"),
    path("notices/<int:notification_id>/read", regional.notice_read, name="notice_read"),
    # The administrators' work (issue 16): courts, rooms with their sources, people and roles.
    path("courts/", courts.courts, name="courts"),
    path("courts/<int:court_id>/edit", courts.court_edit, name="court_edit"),
    path("courtrooms/", courts.courtrooms, name="courtrooms"),
    path("courtrooms/<int:room_id>/edit", courts.courtroom_edit, name="courtroom_edit"),
    path("people/", people.people, name="people"),
    path("people/<int:user_id>", people.person, name="person"),
    path("people/<int:user_id>/roles", people.grant, name="person_grant"),
    path("roles/<int:assignment_id>/revoke", people.revoke, name="role_revoke"),
    path("people/<int:user_id>/active", people.set_active, name="person_active"),
    path("people/<int:user_id>/password", people.set_password, name="person_password"),
    path("people/<int:user_id>/signing-key", people.signing_key, name="signing_key"),
    path(
        "people/<int:user_id>/signing-key/revoke",
        people.signing_key_revoke,
        name="signing_key_revoke",
    ),
]

from django.urls import path

from taspa.web.views import console, dashboards, playback, shell

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
    path("recordings/<int:recording_id>", playback.recording_page, name="recording"),
    path("recordings/<int:recording_id>/verify", playback.verify, name="recording_verify"),
    path(
        "recordings/<int:recording_id>/files/<str:name>",
        playback.playback_file,
        name="playback_file",
    ),
]

"""The web pages, one module per area: the shell, the secretary's console, playback, dashboards."""

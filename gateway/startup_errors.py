"""Why the gateway refuses to start. Raised before it accepts anything, with a message to act on."""


class StartupError(Exception):
    code = "Startup"

"""The Microsoft Graph client every command handler uses.

Import the parts from their modules (``commands.graph.client.GraphClient``,
``commands.graph.settings.GraphSettings``, ``commands.graph.retry.RetryPolicy``); this package
itself imports nothing, so that loading the CLI stays cheap (MSAL in particular is imported only
when a token is first needed).
"""

COMMAND_TIMEOUT = "commandTimeout"
"""The ``code`` of the error raised once a command's total (Command Timeout Seconds) passed
(here, not in the client, so a handler can name it without importing requests)."""

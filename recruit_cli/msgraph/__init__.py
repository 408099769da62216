"""Microsoft Graph: sign-in (MSAL, one shared token cache) and the HTTP client.

``auth`` holds the MSAL applications, the token cache and the sign-in flows; ``client`` the
``GraphClient`` every Graph call funnels through (token, timeouts, retries, Graph's errors).
What recruit does with Graph lives with its users: the mail transport is
``recruit_cli.mail.transports.graph``. Nothing here imports ``recruit_cli.mail``.
"""

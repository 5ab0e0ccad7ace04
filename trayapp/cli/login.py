"""aacli login: sign in to an Identity Center hub (browser + PKCE, or a device code)."""

from __future__ import annotations

import argparse

from trayapp.cli.context import local_time, say, start

DESCRIPTION = """\
Sign in to an IAM Identity Center hub, as `aws sso login` does. By default the
browser opens Identity Center's sign-in page and comes back to aacli on a
one-shot address on 127.0.0.1 (the authorization-code flow with PKCE). With
--device-code (for ssh sessions, or another machine's browser) aacli shows a
code and a URL instead; approve the code there. If no browser can be opened,
aacli falls back to the device code by itself.

The sign-in is kept where the AWS CLI keeps it (~/.aws/sso/cache, mode 0600) and
[sso-session PROFILE] is written to ~/.aws/config, so `aws` and aacli share one
sign-in either way. It is refreshed silently until Identity Center ends it.
Ctrl-C cancels; nothing is written then."""

EPILOG = """\
examples:
  aacli config add-sso corp --start-url https://corp.awsapps.com/start --region eu-west-1
  aacli login corp                   sign in in the browser
  aacli login corp --device-code     show a code to approve in any browser
  aacli login corp --no-browser      print the sign-in URL instead of opening it
  aacli logout corp                  sign out again
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", metavar="PROFILE", help="the Identity Center hub")
    parser.add_argument(
        "--device-code", action="store_true", help="sign in with a code shown here (ssh)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the sign-in URL, do not open it"
    )


def run(args: argparse.Namespace) -> int:
    from trayapp.core.browser import IDENTITY_CENTER_TITLE, BrowserError, open_signin_page
    from trayapp.core.sso.signin import DeviceCode

    service = start()
    name = service.identity_center_hub(args.profile).name  # a wrong name fails first

    def open_browser(url: str) -> bool:
        if args.no_browser:
            if not args.device_code:  # the device code's URL is shown with the code
                say(f"Open this URL in a browser on this machine to sign in to {name}:")
                say(f"  {url}")
            return True
        say(f"Opening the browser to sign in to {name}\u2026")
        try:
            open_signin_page(url, service.deps.app.state_dir, title=IDENTITY_CENTER_TITLE)
        except BrowserError:
            say("No browser could be opened; sign in with a code instead.")
            return False
        return True

    def show_device_code(code: DeviceCode) -> None:
        say(f"To sign in to {name}, open {code.verification_uri}")
        say(f"and enter the code: {code.user_code}")
        say(
            f"(or open {code.verification_uri_complete}; the code ends at "
            f"{local_time(code.expires_at)})"
        )

    expiry = service.sign_in(
        name,
        open_browser=open_browser,
        show_device_code=show_device_code,
        device_code=args.device_code,
    )
    say(f"Signed in to {name} until {local_time(expiry)}.")
    return 0

"""The commands that sign in and out.

    filestore login [--email EMAIL] [--no-browser]      (also `filestore auth login`)
    filestore logout                                    (also `filestore auth logout`)
    filestore auth status
    filestore auth token

They act on one profile of the per-user config file (`--profile`, `FILESTORE_PROFILE`, else
`default`) and on the endpoint resolved as every command resolves it (`credentials`). A local
server signs in by e-mail (no password, on loopback only); a deployment on AWS through Cognito in
a browser (`browser_sign_in`). Failing for want of a sign-in exits with `EXIT_NOT_SIGNED_IN`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.client_errors import ClientError

if TYPE_CHECKING:
    from filestore.entrypoints.credentials import Resolved
    from filestore.entrypoints.user_config import Profile

# The commands' modules load on use: `filestore serve`, `token` and `db` need no HTTP library.

EXIT_NOT_SIGNED_IN = 3  # not signed in, sign-in refused or expired, or the API answered 401


def add_auth_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Adds `login`, `logout` and `auth status|token|login|logout` to the `filestore` parser;
    `common` holds the options every command takes."""
    login = argparse.ArgumentParser(add_help=False)
    login.add_argument("--email", help="a local server: sign in as this e-mail (else asked)")
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="AWS: print the sign-in address and read the answer pasted back, instead of "
        "opening a browser here",
    )

    def add(parsers: Any, name: str, handler: Any, *parents: argparse.ArgumentParser) -> None:
        help_text, description, examples = _HELP[name]
        parsers.add_parser(
            name, help=help_text, description=description, epilog="examples:\n" + examples,
            formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common, *parents],
        ).set_defaults(handler=handler)  # fmt: skip

    add(commands, "login", run_login, login)
    add(commands, "logout", run_logout)
    auth = commands.add_parser(
        "auth",
        help="sign in and out, and see how you are signed in",
        description="Sign in and out, see how you are signed in, print the token for scripts.",
        epilog="examples:\n  filestore auth status\n  filestore auth token\n"
        "  filestore auth login --email you@example.com\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    auth_commands = auth.add_subparsers(dest="auth_command", required=True, metavar="COMMAND")
    add(auth_commands, "status", run_status)
    add(auth_commands, "token", run_token)
    add(auth_commands, "login", run_login, login)
    add(auth_commands, "logout", run_logout)


_HELP = {
    "login": (
        "sign in (kept in the profile, renewed by itself)",
        "Sign in to the endpoint and keep the token in the profile, renewed before it expires.\n"
        "A local server (filestore serve) asks for an e-mail, no password; a deployment on AWS\n"
        "opens the browser at its sign-in page (Cognito, authorization code with PKCE).",
        "  filestore login --email you@example.com\n"
        "  filestore --endpoint https://api.example.com --profile work login\n"
        "  filestore --profile work login --no-browser    # over ssh: paste the answer back\n",
    ),
    "logout": (
        "sign out: revoke and forget the profile's tokens",
        "Revoke the profile's refresh token (AWS) and forget its tokens; the profile keeps its\n"
        "endpoint. Signed out already is fine.",
        "  filestore logout\n  filestore --profile work logout\n",
    ),
    "status": (
        "who you are signed in as, where, until when, and where each value came from",
        "Print the profile, the endpoint, the user and the token's expiry, each with where it\n"
        "came from (an option, the environment, the config file). Exit status 3 if there is\n"
        "no usable token.",
        "  filestore auth status\n  filestore auth status --json\n",
    ),
    "token": (
        "print the token (renewed if due), for scripts",
        "Print the token the next command would send, renewed first if it is near its expiry.",
        '  curl -H "Authorization: Bearer $(filestore auth token)" http://127.0.0.1:8000/me\n',
    ),
}


def run_login(args: argparse.Namespace) -> int:
    """`filestore login`: ask the endpoint how to sign in, do it, keep the tokens."""
    import httpx

    from filestore.entrypoints.browser_sign_in import sign_in_with_browser
    from filestore.entrypoints.credentials import resolve
    from filestore.entrypoints.sign_in import auth_config, local_sign_in
    from filestore.entrypoints.user_config import update_profile

    try:
        resolved = resolve(args)
        with httpx.Client(timeout=30) as http:
            config = auth_config(http, resolved.endpoint)
            if config["kind"] == "local":
                tokens = local_sign_in(http, _local_url(config, resolved), _email(args))
            else:
                tokens = sign_in_with_browser(http, config, use_browser=not args.no_browser)
        profile = {"endpoint": resolved.endpoint, **tokens}
        update_profile(resolved.path, resolved.profile, lambda _old: profile)
    except ClientError as error:
        return _fail(error)
    if getattr(args, "json", False):
        print(json.dumps(_status(resolve(args)), indent=2))
    else:
        print(f"Signed in to {resolved.endpoint} as {profile.get('email') or 'you'} "
              f"(profile {resolved.profile}, kept in {resolved.path})")  # fmt: skip
    if resolved.given_token is not None:
        print(f"note: {resolved.bearer_from} is set and wins over this sign-in; unset it to use "
              "the sign-in", file=sys.stderr)  # fmt: skip
    return 0


def run_logout(args: argparse.Namespace) -> int:
    """`filestore logout`: revoke the refresh token where there is one, forget the tokens
    (the profile keeps its endpoint)."""
    import httpx

    from filestore.entrypoints.credentials import resolve
    from filestore.entrypoints.sign_in import revoke
    from filestore.entrypoints.user_config import update_profile

    try:
        resolved = resolve(args)
        stored = resolved.stored or {}
        if not stored.get("id_token"):
            print(f"profile {resolved.profile} is not signed in")
            return 0
        with httpx.Client(timeout=30) as http:
            revoked = revoke(http, stored)
        update_profile(resolved.path, resolved.profile, _without_tokens)
    except ClientError as error:
        return _fail(error)
    print(f"Signed out of {stored.get('endpoint')} (profile {resolved.profile})")
    if stored.get("kind") == "cognito" and not revoked:
        print("warning: the refresh token could not be revoked; it stays valid until it "
              "expires", file=sys.stderr)  # fmt: skip
    return 0


def run_status(args: argparse.Namespace) -> int:
    """`filestore auth status`: exit 0 when a token is at hand, `EXIT_NOT_SIGNED_IN` if not."""
    from filestore.entrypoints.credentials import resolve

    try:
        resolved = resolve(args)
    except ClientError as error:
        return _fail(error)
    status = _status(resolved)
    if getattr(args, "json", False):
        print(json.dumps(status, indent=2))
    else:
        _show_status(resolved, status)
    return 0 if status["signed_in"] else EXIT_NOT_SIGNED_IN


def run_token(args: argparse.Namespace) -> int:
    """`filestore auth token`: the token a command would send now (renewed if due)."""
    from filestore.entrypoints.credentials import resolve, token_provider

    try:
        token = token_provider(resolve(args))()
    except ClientError as error:
        return _fail(error)
    print(token)
    return 0


def _status(resolved: Resolved) -> dict[str, Any]:
    from filestore.entrypoints.credentials import renewable, stored_expiry
    from filestore.entrypoints.sign_in import expires_at, jwt_claims

    stored = resolved.stored or {}
    if resolved.given_token is not None:
        claims = jwt_claims(resolved.given_token)
        expiry = expires_at(resolved.given_token)
        email, kind, renews = claims.get("email"), None, False
    elif resolved.bearer_from == "profile":
        expiry, email, kind = stored_expiry(stored), stored.get("email"), stored.get("kind")
        renews = renewable(stored)
    else:
        expiry, email, kind, renews = None, None, None, False
    expired = expiry is not None and expiry.timestamp() <= time.time()
    return {
        "profile": resolved.profile,
        "profile_from": resolved.profile_from,
        "endpoint": resolved.endpoint,
        "endpoint_from": resolved.endpoint_from,
        "signed_in": resolved.bearer_from is not None and (renews or not expired),
        "email": email or None,
        "kind": kind,
        "token_from": resolved.bearer_from,
        "expires_at": expiry.isoformat() if expiry else None,
        "expired": expired,
        "renews": renews,
        "config_file": str(resolved.path),
    }


def _show_status(resolved: Resolved, status: dict[str, Any]) -> None:
    from filestore.entrypoints.credentials import describe_time, stored_expiry

    def origin(source: str) -> str:  # an option or variable's name, "profile" or "default"
        if source == "profile":
            return f"from profile {resolved.profile} in {resolved.path}"
        return "the default" if source == "default" else f"from {source}"

    print(f"profile:  {status['profile']} ({origin(status['profile_from'])})")
    print(f"endpoint: {status['endpoint']} ({origin(status['endpoint_from'])})")
    if status["token_from"] is None:
        print(f"not signed in: run `{resolved.login_command()}`")
        return
    how = {"local": " (local sign-in)", "cognito": " (Cognito)"}.get(status["kind"] or "", "")
    print(f"user:     {status['email'] or 'unknown (the token names no e-mail)'}{how}")
    expiry = stored_expiry({"expires_at": status["expires_at"] or ""})
    if expiry is None:
        when = "no expiry stated"
    else:
        when = ("expired " if status["expired"] else "expires ") + describe_time(expiry)
    renews = "; renewed by itself" if status["renews"] else ""
    print(f"token:    {origin(status['token_from'])}; {when}{renews}")
    if not status["signed_in"]:
        print(f"the token has expired: run `{resolved.login_command()}`")


def _local_url(config: dict[str, Any], resolved: Resolved) -> str:
    url = config.get("sign_in_url")
    if not url:
        raise ClientError(
            f"{resolved.endpoint} offers no password-free sign-in (it is not on a loopback "
            "address and was not started with --open-sign-in): on the server's machine, "
            "`filestore token --email YOU` prints a token; pass it with --token or "
            "FILESTORE_TOKEN"
        )
    return str(url)


def _email(args: argparse.Namespace) -> str:
    if args.email:
        return str(args.email)
    if not sys.stdin.isatty():
        raise ClientError("give --email (there is no terminal to ask on)")
    try:
        email = input("E-mail: ").strip()
    except EOFError:
        email = ""
    if not email:
        raise ClientError("no e-mail given")
    return email


def _without_tokens(old: Profile | None) -> Profile | None:
    return {"endpoint": old["endpoint"]} if old and old.get("endpoint") else None


def _fail(error: ClientError) -> int:
    print(f"filestore: {error}", file=sys.stderr)
    return EXIT_NOT_SIGNED_IN if error.status == 401 else 1

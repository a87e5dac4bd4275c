"""Who is acting, decided from the account as it is now.

Every use case starts here. An :class:`Identity` is what a transport knows
of its caller (an account and the sign-in it acts through); :func:`current`
turns it into the user as the database holds them right now, refusing a
revoked sign-in or a deactivated account. Roles are checked on that user,
never on a value a socket cached at ``hello``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.domain.errors import Forbidden, Unauthorized
from hub.domain.model import User
from hub.storage.users import Users


@dataclass(frozen=True)
class Identity:
    """An account and the sign-in it acts through.

    ``sign_in_id`` is None only when the hub itself acts for the account
    (the demo's simulated clients, the command line): there is no token to
    revoke then, and the account's own state still decides.
    """

    user_id: str
    sign_in_id: str | None


async def current(users: Users, identity: Identity) -> User:
    """The acting user as they are now.

    Raises:
        Unauthorized: the sign-in is revoked or unknown, or the account is
            deactivated or gone.
    """
    if identity.sign_in_id is None:
        user = await users.get(identity.user_id)
    else:
        signed_in = await users.signed_in(identity.user_id, identity.sign_in_id)
        if signed_in is not None and signed_in.revoked:
            raise Unauthorized("this sign-in has been revoked; sign in again")
        user = None if signed_in is None else signed_in.user
    if user is None:
        raise Unauthorized("the access token names no account or sign-in")
    if not user.is_active:
        raise Unauthorized("this account is deactivated")
    return user


def require_staff(user: User) -> None:
    if not user.is_staff:
        raise Forbidden("only staff and admins may do this")


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("only admins may do this")

"""Password and verification-code hashing with argon2 (argon2-cffi).

Request handlers use the ``*_async`` forms: argon2 takes tens of milliseconds of CPU and 64 MiB
on purpose, so it runs on a small thread pool of its own, never on the event loop (where
parallel guessers once pushed everyone's ping from 2 ms to 581 ms), and never more than
``HASH_THREADS`` at once (bounding its memory)."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
HASH_THREADS = 4
_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


async def hash_secret_async(secret: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_secret, secret)


async def verify_secret_async(stored_hash: str, secret: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_pool, verify_secret, stored_hash,
                                                            secret)


def new_verification_code() -> str:
    """Six digits, given to the invited person with their link (by phone, letter, SMS)."""
    return f"{secrets.randbelow(10**6):06d}"


MIN_PASSWORD_LENGTH = 10


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
    return None

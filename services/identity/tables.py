"""The identity schema, as Piccolo tables: the source its migrations are generated from."""

from piccolo.columns import UUID, BigInt, BigSerial, Boolean, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Users(Table, tablename="users"):
    """One row per Clerk user, ever: a deleted user keeps its row as a tombstone (`deleted_at`)."""

    id = UUID(primary_key=True)
    clerk_id = Varchar(length=64, unique=True, index=False)
    email = Text(null=True, default=None)
    # Clerk's word on the primary email's verification; null: Clerk has not said (a user made from a session
    # token's claims, a pending stub, a tombstone)
    email_verified = Boolean(null=True, default=None)
    phone = Text(null=True, default=None)
    username = Text(null=True, default=None)
    first_name = Text(null=True, default=None)
    last_name = Text(null=True, default=None)
    image_url = Text(null=True, default=None)
    clerk_created_at = Timestamptz(null=True, default=None)
    clerk_updated_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    banned = Boolean(default=False)  # Clerk's `banned`: may not start interviews
    locked = Boolean(default=False)  # Clerk's `locked` (too many failed sign-ins): likewise, until unlocked
    created_via = Varchar(length=16)  # webhook | ensure | backfill | claims
    profile_status = Varchar(length=16)  # complete | pending
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WebhookEvents(Table, tablename="webhook_events"):
    """Every Clerk webhook applied once, keyed by its Svix message id, with what it did."""

    svix_id = Varchar(length=64, primary_key=True)
    event_type = Varchar(length=64)
    clerk_id = Varchar(length=64, null=True, default=None, index=True, index_method=IndexMethod.btree)
    event_timestamp = Timestamptz(null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow(), index=True)
    outcome = Varchar(length=16)  # applied | stale | ignored


class UserChanges(Table, tablename="user_changes"):
    """The users' changes feed (a transactional outbox): a row per deletion, ban, unban, lock or unlock, written
    by a trigger on `users` in the transaction of the write it describes (see the migration)."""

    position = BigSerial(primary_key=True)
    xact = BigInt()  # the writing transaction's id: the feed is read in (xact, position) order, up to the
    # oldest transaction still in flight, so a reader resuming from its cursor misses nothing
    clerk_id = Varchar(length=64)
    user_id = UUID()
    change = Varchar(length=16)  # deleted | banned | unbanned | locked | unlocked
    at = Timestamptz(default=TimestamptzNow())


class Organizations(Table, tablename="organizations"):
    """One row per Clerk organization, ever: a deleted one keeps its row as a tombstone (`deleted_at`), so no
    late event brings it back (Clerk never reuses ids)."""

    id = UUID(primary_key=True)
    clerk_org_id = Varchar(length=64, unique=True, index=False)
    name = Text(null=True, default=None)
    slug = Text(null=True, default=None)
    clerk_created_at = Timestamptz(null=True, default=None)
    clerk_updated_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class OrganizationChanges(Table, tablename="organization_changes"):
    """The organizations' changes feed (a transactional outbox, like `user_changes`): a row per deletion, written by
    a trigger on `organizations` in the transaction of the write it describes (see the migration)."""

    position = BigSerial(primary_key=True)
    xact = BigInt()  # the writing transaction's id: read in (xact, position) order, as the users' feed
    org_id = Varchar(length=64)
    change = Varchar(length=32)  # organization_deleted
    at = Timestamptz(default=TimestamptzNow())

"""The plans of the folder, sorted and searched listings on MySQL/MariaDB (EXPLAIN): each
reads the index meant for it (migration 0005), as a range bounded by the cursor, in the order
the page needs (no filesort), whatever the sort, the direction and the page. bench/organize.py
times the same queries at 100,000 files.
"""

from __future__ import annotations

from datetime import timedelta

import pymysql
import pytest

from filestore.adapters.sql.folders import list_folders_query
from filestore.adapters.sql.keys import stored_name_key, stored_search_key
from filestore.adapters.sql.organize import files_index, list_files_query
from filestore.adapters.sql.trash import list_trash_query
from filestore.domain.ids import uuid7
from filestore.domain.names import search_key
from filestore.domain.ports import ANY_FOLDER, FileQuery, SortField, SortPosition, TrashPosition
from tests.factories import T0, make_upload
from tests.support.explain import plan_of, plans
from tests.support.mysql import MySQLDatabase
from tests.support.sql import insert_owners

pytestmark = pytest.mark.integration

FILES = 3_000
FOLDERS = 30


@pytest.fixture(scope="module")
def organized(migrated_mysql: MySQLDatabase) -> tuple[MySQLDatabase, str, str]:
    """One owner with 3,000 stored files in 30 folders (and some in the root), 50 other owners
    with 20 each; statistics analysed. Returns the database, the owner's sub and a folder."""
    from tests.support.sql import empty_tables

    empty_tables(migrated_mysql)
    with (
        pymysql.connect(**migrated_mysql.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        owners, internal = insert_owners(cursor, 51)
        folders = [uuid7() for _ in range(FOLDERS)]
        cursor.executemany(
            "INSERT INTO folders (public_id, user_id, name, name_key, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            [
                (f, internal[owners[0].id], f"F{n}", f"f{n}", T0.replace(tzinfo=None))
                for n, f in enumerate(folders)
            ],
        )
        rows = []
        for index, owner in enumerate(owners):
            for n in range(FILES if index == 0 else 20):
                upload = make_upload(owner, created_at=T0 + timedelta(seconds=n))
                folder = folders[n % FOLDERS] if index == 0 and n % 7 else ""
                name = f"Report {n}.pdf"
                status = "stored" if n % 10 else "pending"
                created = upload.created_at.replace(tzinfo=None)
                rows.append(
                    (
                        upload.id, internal[owner.id], upload.object_key, name,
                        stored_name_key(name), stored_search_key(name), n * 37 % 1000,
                        "a/b", status, folder, created, created,
                    )
                )  # fmt: skip
        cursor.executemany(
            "INSERT INTO uploads (public_id, user_id, object_key, name, name_key, search_key,"
            " size, content_type, status, folder_id, created_at, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
        connection.commit()
        cursor.execute("ANALYZE TABLE users, folders, uploads")
        cursor.fetchall()
    yield migrated_mysql, owners[0].sub, folders[3]
    empty_tables(migrated_mysql)


def _cursor(sort: SortField) -> SortPosition:
    key: object = {
        SortField.CREATED_AT: T0 + timedelta(seconds=FILES // 2),
        SortField.NAME: stored_name_key("Report 1500.pdf"),
        SortField.SIZE: 500,
    }[sort]
    return SortPosition(key, "7fffffff-ffff-7fff-bfff-ffffffffffff")  # type: ignore[arg-type]


@pytest.mark.parametrize("sort", list(SortField))
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("scope", ["any", "root", "folder"])
@pytest.mark.parametrize("page", ["first", "later"])
def test_each_sort_reads_its_index_in_order(
    organized: tuple[MySQLDatabase, str, str],
    sort: SortField,
    descending: bool,
    scope: str,
    page: str,
) -> None:
    database, sub, folder = organized
    query = FileQuery(
        folder={"any": ANY_FOLDER, "root": None, "folder": folder}[scope],
        sort=sort,
        descending=descending,
    )
    after = _cursor(sort) if page == "later" else None
    sql, params = list_files_query(sub, query, 50, after)
    plan = plan_of(database, sql, params, "u")
    assert plan["key"] == files_index(query), plan
    assert plan["type"] in (("ref", "range") if after is None else ("range",)), plan
    assert "filesort" not in str(plan["Extra"]), plan
    # The owner (by the caller's sub) and the folder (by its id) are constants, read once;
    # a folder's page is read in a derived table of at most a page of rows.
    for row in plans(database, sql, params):
        if row["table"] in ("o", "p"):
            assert row["type"] == "const", row
        elif row["table"] != "u":
            assert str(row["table"]).startswith("<derived"), row
            assert int(str(row["rows"])) <= 50, row


@pytest.mark.parametrize("scope", ["any", "folder"])
def test_a_search_reads_the_search_index_alone(
    organized: tuple[MySQLDatabase, str, str], scope: str
) -> None:
    """The owner's files, in the search index alone (search_key and folder_id are in it): a
    row is read only when it matches, then the few matches are sorted."""
    database, sub, folder = organized
    query = FileQuery(
        folder=ANY_FOLDER if scope == "any" else folder, contains=search_key("report 12")
    )
    sql, params = list_files_query(sub, query, 50)
    plan = plan_of(database, sql, params, "u")
    assert plan["key"] == "uploads_search", plan
    assert plan["type"] == "ref", plan
    assert "Using index condition" in str(plan["Extra"]), plan  # INSTR checked in the index


@pytest.mark.parametrize("page", ["first", "later"])
@pytest.mark.parametrize("parent", ["root", "folder"])
def test_a_folder_listing_reads_the_folders_index_in_order(
    organized: tuple[MySQLDatabase, str, str], page: str, parent: str
) -> None:
    database, sub, folder = organized
    after = SortPosition("f15", "7fffffff-ffff-7fff-bfff-ffffffffffff") if page == "later" else None
    sql, params = list_folders_query(sub, None if parent == "root" else folder, 50, after)
    plan = plan_of(database, sql, params, "f")
    assert plan["key"] == "folders_listing", plan
    assert plan["type"] in ("ref", "range"), plan
    assert "filesort" not in str(plan["Extra"]), plan


def test_a_trash_page_reads_the_trash_indexes(organized: tuple[MySQLDatabase, str, str]) -> None:
    database, sub, _ = organized
    after = TrashPosition(T0, "7fffffff-ffff-7fff-bfff-ffffffffffff")
    for position in (None, after):
        sql, params = list_trash_query(sub, 50, position)
        assert plan_of(database, sql, params, "u")["key"] == "uploads_trash"
        assert plan_of(database, sql, params, "f")["key"] == "folders_trash"

"""Bulk generation of a city through the real schema (migrations first, then COPY).

small: 1 district, 20 communities, 6,000 residents, 2,000 proposals, 60,000 supports,
       10,000 comments, 400 cases.
city:  10 districts, 1,000 communities, 15,000 grids, 300,000 residents, 100,000 proposals,
       3,000,000 supports, 500,000 comments, 20,000 cases.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.core.text import grams, render_markdown

SCALES = {
    "small": {
        "districts": 1,
        "communities": 20,
        "grids": 15,
        "residents": 6_000,
        "proposals": 2_000,
        "supports": 60_000,
        "comments": 10_000,
        "cases": 400,
    },
    "city": {
        "districts": 10,
        "communities": 1_000,
        "grids": 15,
        "residents": 300_000,
        "proposals": 100_000,
        "supports": 3_000_000,
        "comments": 500_000,
        "cases": 20_000,
    },
}
WORDS = [
    "社区卫生站",
    "健身器材",
    "路灯",
    "垃圾分类",
    "停车",
    "老年食堂",
    "儿童游乐场",
    "绿化",
    "噪音",
    "下水道",
    "电梯",
    "无障碍坡道",
    "图书角",
    "菜市场",
    "公交站",
    "消防通道",
    "监控",
    "自行车棚",
    "充电桩",
    "篮球场",
]
PROBLEMS = ["太远了", "坏了", "不够用", "需要维修", "缺少", "太吵", "不安全", "应该增加"]
CATEGORIES = ["health", "recreation", "environment", "safety", "public-space", "care", "other"]
AGENCY_FOR = {
    "health": "health-commission",
    "recreation": "culture-sports-bureau",
    "environment": "ecology-environment-bureau",
    "safety": "public-security-bureau",
    "public-space": "urban-management-bureau",
    "care": "civil-affairs-bureau",
    "other": "street-office",
}
# The hot proposal gets this many comments (the page benchmark reads it).
HOT_COMMENTS = 150
# Distinct reported comments in the hot proposal's community (the moderation queue).
REPORTED_IN_HOT = 120
# Frozen threshold of every seeded proposal (open ones stay below it, qualified ones above).
THRESHOLD = 50


def log(msg: str) -> None:
    print(f"[seed {time.strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass
class Ids:
    community: list[int]
    community_code: list[str]
    residents_by_community: dict[int, list[int]]


def _copy(conn, table: str, columns: list[str], rows) -> int:
    """COPY on PostgreSQL, executemany elsewhere. Rows are tuples."""
    raw = conn.connection.driver_connection
    n = 0
    if conn.dialect.name == "postgresql":
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    rows = list(rows)
    marks = ", ".join("?" for _ in columns)
    raw.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [tuple(_sqlite(v) for v in r) for r in rows],
    )
    return len(rows)


def _sqlite(v):
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return v


def _max_id(conn, table: str) -> int:
    return conn.execute(sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar()


def _fix_sequences(conn) -> None:
    if conn.dialect.name != "postgresql":
        return
    for (table,) in conn.execute(
        sa.text(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
            "AND table_schema = 'public' AND column_default LIKE 'nextval%'"
        )
    ):
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
            )
        )


def seed(app, scale: str, rng_seed: int = 7) -> dict:
    """Fill an empty, migrated database (demo data already loaded) at ``scale``."""
    from portal.demo import _hash
    from portal.extensions import db

    cfg = SCALES[scale]
    rng = random.Random(rng_seed)
    started = time.time()
    now = datetime.now(UTC)
    pw = _hash()
    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
            counts = _seed(conn, cfg, rng, now, pw)
            _fix_sequences(conn)
        # The rows above were copied in, past the dashboard's listener: fill its summary
        # tables as `flask dashboard refresh --all` does after a migration.
        from portal.transparency.dashboard import rollup

        log("dashboard summary tables")
        rollup.rebuild_start()
        ids = rollup.all_proposal_ids()
        for i in range(0, len(ids), 2000):
            rollup.refresh(ids[i : i + 2000])
            db.session.commit()
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
    counts["seconds"] = round(time.time() - started, 1)
    log(f"done in {counts['seconds']} s: {counts}")
    return counts


def _seed(conn, cfg, rng, now, pw) -> dict:
    counts = {}
    q = lambda sql, **kw: conn.execute(sa.text(sql), kw)  # noqa: E731
    city_id = q("SELECT id FROM cities WHERE code = '110000'").scalar()
    cat_ids = dict(q("SELECT code, id FROM categories").all())
    agency_ids = dict(q("SELECT code, id FROM agencies").all())
    handling = dict(q("SELECT id, handling_days FROM categories").all())

    # --- places ------------------------------------------------------------------------------
    log("places")
    district_rows, street_rows, community_rows, grid_rows = [], [], [], []
    next_d, next_s, next_c, next_g = (
        _max_id(conn, t) + 1 for t in ("districts", "streets", "communities", "grids")
    )
    per_district = max(1, cfg["communities"] // cfg["districts"])
    communities, codes = [], []
    for d in range(cfg["districts"]):
        dcode = f"{120101 + d:06d}"
        did = next_d + d
        district_rows.append((did, city_id, dcode, f"压测区{d}", f"Bench District {d}"))
        streets = max(1, per_district // 10)
        for s in range(streets):
            sid = next_s
            next_s += 1
            scode = f"{dcode}{s + 1:03d}"
            street_rows.append((sid, did, scode, f"街道{s}", f"Street {s}"))
            for c in range(per_district // streets):
                cid = next_c
                next_c += 1
                ccode = f"{scode}{c + 1:03d}"
                community_rows.append(
                    (cid, sid, ccode, f"社区{cid}", f"Community {cid}", 0, 20, 5.0, 30)
                )
                communities.append(cid)
                codes.append(ccode)
                for g in range(cfg["grids"]):
                    grid_rows.append(
                        (
                            next_g,
                            cid,
                            f"{ccode}{g + 1:03d}",
                            f"第{g + 1}网格",
                            f"Grid {g + 1}",
                            10000.0,
                        )
                    )
                    next_g += 1
    _copy(conn, "districts", ["id", "city_id", "code", "name_zh", "name_en"], district_rows)
    _copy(conn, "streets", ["id", "district_id", "code", "name_zh", "name_en"], street_rows)
    _copy(
        conn,
        "communities",
        [
            "id",
            "street_id",
            "code",
            "name_zh",
            "name_en",
            "confirmed_residents",
            "support_minimum",
            "support_percent",
            "support_window_days",
        ],
        community_rows,
    )
    _copy(conn, "grids", ["id", "community_id", "code", "name_zh", "name_en", "area_m2"], grid_rows)
    # Every district routes by category to the demo agencies, with the street office as
    # fallback (the agencies belong to 110101; routing only needs them to exist).
    rule_rows = []
    for did, *_ in district_rows:
        for code, cat in cat_ids.items():
            rule_rows.append(
                (
                    cat,
                    did,
                    agency_ids[AGENCY_FOR.get(code, "street-office")],
                    str(cat),
                    f"district:{did}",
                )
            )
        rule_rows.append((None, did, agency_ids["street-office"], "*", f"district:{did}"))
    _copy(
        conn,
        "routing_rules",
        ["category_id", "district_id", "agency_id", "category_key", "place_key"],
        rule_rows,
    )
    counts.update(districts=len(district_rows), communities=len(communities), grids=len(grid_rows))

    # --- residents ---------------------------------------------------------------------------
    log(f"{cfg['residents']} residents")
    first_user = _max_id(conn, "users") + 1
    per_comm = cfg["residents"] // len(communities)
    residents: dict[int, list[int]] = {}

    def user_rows():
        uid = first_user
        for cid in communities:
            residents[cid] = list(range(uid, uid + per_comm))
            for _ in range(per_comm):
                yield (
                    uid,
                    f"r{uid}@bench.example.org",
                    f"居民{uid}",
                    pw,
                    "zh_Hans",
                    "standard",
                    1,
                    cid,
                    now,
                    now,
                )
                uid += 1

    counts["residents"] = _copy(
        conn,
        "users",
        [
            "id",
            "email",
            "display_name",
            "password_hash",
            "locale",
            "display_mode",
            "session_version",
            "community_id",
            "created_at",
            "email_confirmed_at",
        ],
        user_rows(),
    )
    q(
        "UPDATE communities SET confirmed_residents = :n WHERE id >= :first",
        n=per_comm,
        first=communities[0],
    )

    # --- proposals ---------------------------------------------------------------------------
    log(f"{cfg['proposals']} proposals")
    first_p = _max_id(conn, "proposals") + 1
    n_cases = cfg["cases"]
    statuses = (
        ["qualified"] * n_cases
        + ["open"] * int(cfg["proposals"] * 0.35)
        + ["expired"] * int(cfg["proposals"] * 0.2)
        + ["rejected"] * int(cfg["proposals"] * 0.05)
        + ["withdrawn"] * int(cfg["proposals"] * 0.03)
        + ["submitted"] * int(cfg["proposals"] * 0.05)
    )
    statuses += ["draft"] * (cfg["proposals"] - len(statuses))
    rng.shuffle(statuses)
    proposals = []  # (id, community, status, threshold, category, author)
    prop_rows, gram_rows, event_rows = [], [], []
    avg_support = cfg["supports"] / max(
        1, sum(1 for s in statuses if s in ("open", "qualified", "expired"))
    )
    for i, status in enumerate(statuses):
        pid = first_p + i
        cid = communities[i % len(communities)]
        author = residents[cid][i % per_comm]
        cat = CATEGORIES[i % len(CATEGORIES)]
        title = f"{rng.choice(WORDS)}{rng.choice(PROBLEMS)}"
        summary = f"{rng.choice(WORDS)}和{rng.choice(WORDS)}的问题，{rng.choice(PROBLEMS)}"
        created = now - timedelta(days=rng.randint(1, 300), minutes=i % 1440)
        opened = created + timedelta(days=1) if status in ("open", "qualified", "expired") else None
        threshold = THRESHOLD if opened else None
        if status == "open":
            opened = now - timedelta(days=rng.randint(0, 25))
            closes = opened + timedelta(days=30)
        elif opened:
            closes = opened + timedelta(days=30)
        else:
            closes = None
        if status == "qualified":
            n_sup = THRESHOLD + int(rng.expovariate(1 / max(avg_support, 1)))
        elif status == "open":
            n_sup = min(THRESHOLD - 1, int(rng.expovariate(1 / max(1, avg_support))))
        elif status == "expired":
            n_sup = min(THRESHOLD - 1, int(rng.expovariate(1 / max(1, avg_support / 2))))
        else:
            n_sup = 0
        n_sup = min(n_sup, per_comm)
        reached = opened + timedelta(days=2) if status == "qualified" else None
        body = f"{summary}。希望尽快解决。"
        prop_rows.append(
            (
                pid,
                cid,
                author,
                cat_ids[cat],
                title,
                summary,
                body,
                render_markdown(body),
                "",
                status,
                threshold,
                n_sup,
                created,
                created,
                opened or created,
                created if status != "draft" else None,
                created + timedelta(days=3) if status != "draft" else None,
                opened,
                closes,
                reached,
                closes if status == "expired" else None,
                created + timedelta(days=1) if status == "rejected" else None,
                "other" if status == "rejected" else None,
                created + timedelta(days=2) if status == "withdrawn" else None,
                "已解决" if status == "withdrawn" else None,
                opened if opened else None,
            )
        )
        proposals.append((pid, cid, status, threshold, cat_ids[cat], author, n_sup))
        for g in grams(f"{title} {summary}"):
            gram_rows.append((cid, g, pid))
        event_rows.append((pid, None, "draft", author, "author", created))
    counts["proposals"] = _copy(
        conn,
        "proposals",
        [
            "id",
            "community_id",
            "author_id",
            "category_id",
            "title",
            "summary",
            "body",
            "body_html",
            "location_note",
            "status",
            "threshold",
            "support_count",
            "created_at",
            "updated_at",
            "last_activity_at",
            "submitted_at",
            "review_due_at",
            "opened_at",
            "closes_at",
            "threshold_reached_at",
            "expired_at",
            "rejected_at",
            "reject_reason",
            "withdrawn_at",
            "withdraw_reason",
            "reviewed_at",
        ],
        prop_rows,
    )
    _copy(conn, "proposal_grams", ["community_id", "gram", "proposal_id"], gram_rows)
    _copy(
        conn,
        "proposal_events",
        ["proposal_id", "from_status", "to_status", "actor_id", "actor_role", "created_at"],
        event_rows,
    )
    del prop_rows, gram_rows, event_rows

    # --- supports ----------------------------------------------------------------------------
    log("supports")

    def support_rows():
        for pid, cid, _status, _t, _cat, author, n_sup in proposals:
            if not n_sup:
                continue
            pool = residents[cid]
            chosen = {author}
            while len(chosen) < n_sup:
                chosen.add(pool[rng.randrange(per_comm)])
            for uid in chosen:
                yield (pid, uid, now - timedelta(days=1))

    counts["supports"] = _copy(
        conn, "supports", ["proposal_id", "user_id", "created_at"], support_rows()
    )

    # --- comments ----------------------------------------------------------------------------
    log("comments")
    visible = [p for p in proposals if p[2] in ("open", "qualified", "expired")]
    hot = visible[0]

    def comment_rows():
        stances = ("for", "against", "question")
        for k in range(HOT_COMMENTS):
            body = f"关于这个提议的意见 {k}"
            yield (
                hot[0],
                residents[hot[1]][k % per_comm],
                None,
                stances[k % 3],
                body,
                body,
                now - timedelta(minutes=k),
                False,
                False,
                0,
            )
        for k in range(cfg["comments"] - HOT_COMMENTS):
            p = visible[rng.randrange(len(visible))]
            body = f"同意，{rng.choice(WORDS)}确实{rng.choice(PROBLEMS)}"
            yield (
                p[0],
                residents[p[1]][k % per_comm],
                None,
                stances[k % 3],
                body,
                body,
                now - timedelta(minutes=k % 50000),
                False,
                False,
                0,
            )

    counts["comments"] = _copy(
        conn,
        "comments",
        [
            "proposal_id",
            "author_id",
            "parent_id",
            "stance",
            "body",
            "body_html",
            "created_at",
            "hidden",
            "hidden_auto",
            "report_count",
        ],
        comment_rows(),
    )

    # --- reports -----------------------------------------------------------------------------
    # Open reports for the moderation queue: a long queue in the hot proposal's community
    # (whose committee the demo committee member joins) and a few everywhere else.
    log("reports")
    hot_community = hot[1]
    committee_user = q("SELECT id FROM users WHERE email = 'committee@example.org'").scalar()
    if committee_user is not None:
        q(
            "INSERT INTO role_grants (user_id, role, community_id, scope_key, created_at) "
            "VALUES (:u, 'committee', :c, :k, :now)",
            u=committee_user,
            c=hot_community,
            k=f"community:{hot_community}",
            now=now,
        )
    reasons = ("offensive", "personal-data", "spam", "off-topic")
    local = q(
        "SELECT c.id, c.author_id FROM comments c JOIN proposals p ON p.id = c.proposal_id "
        "WHERE p.community_id = :c ORDER BY c.id LIMIT :n",
        c=hot_community,
        n=REPORTED_IN_HOT,
    ).all()
    elsewhere = q(
        "SELECT c.id, c.author_id, p.community_id FROM comments c "
        "JOIN proposals p ON p.id = c.proposal_id WHERE c.id % 500 = 0"
    ).all()

    def report_rows():
        for k, (cid, author) in enumerate(local):
            people = [u for u in residents[hot_community][:8] if u != author]
            for j in range(1 + k % 3):
                yield (
                    hot_community,
                    "comment",
                    cid,
                    people[j],
                    reasons[k % 4],
                    "",
                    now - timedelta(hours=k),
                )
        for k, (cid, author, community) in enumerate(elsewhere):
            reporter = next(u for u in residents[community][:2] if u != author)
            yield (community, "comment", cid, reporter, reasons[k % 4], "", now)

    counts["reports"] = _copy(
        conn,
        "reports",
        ["community_id", "target_type", "target_id", "reporter_id", "reason", "note", "created_at"],
        report_rows(),
    )

    # --- cases -------------------------------------------------------------------------------
    log("cases")
    states = [
        "dispatched",
        "accepted",
        "in_progress",
        "verifying",
        "closed",
        "closed",
        "closed",
        "returned",
    ]
    seq: dict[tuple[int, int], int] = {}
    case_rows, ev_rows, counter_rows = [], [], {}
    first_case = _max_id(conn, "cases") + 1
    code_of = dict(zip(communities, codes, strict=True))
    for k, p in enumerate(x for x in proposals if x[2] == "qualified"):
        pid, cid, _s, _t, cat, _a, _n = p
        state = states[k % len(states)]
        filed = now - timedelta(days=rng.randint(1, 200))
        year = filed.year
        seq[(cid, year)] = seq.get((cid, year), 0) + 1
        counter_rows[(cid, year)] = seq[(cid, year)]
        number = f"{code_of[cid]}-{year}-{seq[(cid, year)]:05d}"
        due = filed + timedelta(days=handling.get(cat, 15) * 7 // 5)
        agency = agency_ids[AGENCY_FOR[CATEGORIES[(pid - first_p) % len(CATEGORIES)]]]
        closed = filed + timedelta(days=10) if state == "closed" else None
        case_rows.append(
            (
                first_case + k,
                number,
                pid,
                cid,
                year,
                seq[(cid, year)],
                cat,
                agency,
                state,
                filed,
                filed,
                due,
                None if state in ("closed", "returned") else due,
                closed,
                "resolved" if closed else None,
                "none",
                0,
                filed,
            )
        )
        # Each event keeps the clock as its step left it (response limit, then handling limit,
        # then the verification limit; none once closed), like record_event.
        response_due = filed + timedelta(days=3)
        verify_due = filed + timedelta(days=12)
        steps = [
            ("file", "dispatched", "system", filed, response_due),
            ("dispatch", "dispatched", "system", filed, response_due),
        ]
        if state != "dispatched":
            steps.append(("accept", "accepted", "liaison", filed + timedelta(hours=5), due))
        if state in ("in_progress", "verifying", "closed"):
            steps.append(("plan", "in_progress", "liaison", filed + timedelta(days=1), due))
        if state in ("verifying", "closed"):
            steps.append(("resolve", "verifying", "liaison", filed + timedelta(days=8), verify_due))
        if state == "closed":
            steps.append(("close", "closed", "system", closed, None))
        ev_rows.extend(
            (first_case + k, action, st, role, agency, at, stage_due, due)
            for action, st, role, at, stage_due in steps
        )
    counts["cases"] = _copy(
        conn,
        "cases",
        [
            "id",
            "number",
            "proposal_id",
            "community_id",
            "year",
            "sequence",
            "category_id",
            "agency_id",
            "state",
            "filed_at",
            "dispatched_at",
            "handling_due_at",
            "stage_due_at",
            "closed_at",
            "close_reason",
            "extension",
            "reopen_count",
            "updated_at",
        ],
        case_rows,
    )
    _copy(
        conn,
        "case_events",
        [
            "case_id",
            "action",
            "state",
            "actor_role",
            "agency_id",
            "created_at",
            "stage_due_at",
            "handling_due_at",
        ],
        ev_rows,
    )
    _copy(
        conn,
        "case_counters",
        ["community_id", "year", "last"],
        [(c, y, n) for (c, y), n in counter_rows.items()],
    )
    counts["hot_proposal"] = hot[0]
    return counts

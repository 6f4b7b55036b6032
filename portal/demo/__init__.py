"""Demo data: district 110101 (东城区), its streets, communities, grids, agencies and accounts
(``load_demo``, which the tests build on), and a few months of life in its communities played
through the services (``portal.demo.life.load_life``, which ``flask demo`` adds)."""

from __future__ import annotations

from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.core import clock
from portal.extensions import db
from portal.places.services import upsert_place
from portal.residency.models import ResidencyRequest, ResidencyStatus
from portal.roles.models import Agency, Role
from portal.roles.services import grant

PASSWORD = "commons-demo-2026"  # noqa: S105 - documented demo password

PLACES = [
    ("city", "110000", "北京市", "Beijing", ""),
    ("district", "110101", "东城区", "Dongcheng District", "110000"),
    ("street", "110101001", "东华门街道", "Donghuamen Subdistrict", ""),
    ("street", "110101002", "景山街道", "Jingshan Subdistrict", ""),
    ("community", "110101001001", "多福巷社区", "Duofuxiang Community", ""),
    ("community", "110101001002", "银闸社区", "Yinzha Community", ""),
    ("community", "110101001003", "韶九社区", "Shaojiu Community", ""),
    ("community", "110101002001", "黄化门社区", "Huanghuamen Community", ""),
    ("community", "110101002002", "钟鼓社区", "Zhonggu Community", ""),
]

CATEGORIES = [
    ("health", "医疗卫生设施", "Health facilities", "✚"),
    ("recreation", "文体休闲场所", "Recreation, culture and sports", "⚽"),
    ("environment", "环境与卫生", "Environment and sanitation", "♻"),
    ("safety", "安全", "Safety", "⚠"),
    ("public-space", "公共空间与基础设施", "Public space and infrastructure", "⌂"),
    ("care", "养老与托育", "Elderly and child care", "♥"),
    ("other", "其他", "Other", "•"),
]
# category → agency in district 110101; the street office is also the fallback (属地兜底).
ROUTES = {
    "health": "health-commission",
    "recreation": "culture-sports-bureau",
    "environment": "ecology-environment-bureau",
    "safety": "public-security-bureau",
    "public-space": "urban-management-bureau",
    "care": "civil-affairs-bureau",
    "other": "street-office",
}

AGENCIES = [
    ("health-commission", "区卫生健康委员会", "District Health Commission"),
    ("culture-sports-bureau", "区文化和旅游局（体育）", "District Culture and Sports Bureau"),
    ("ecology-environment-bureau", "区生态环境局", "District Ecology and Environment Bureau"),
    ("public-security-bureau", "区公安分局", "District Public Security Bureau"),
    ("urban-management-bureau", "区城市管理委员会", "District Urban Management Bureau"),
    ("civil-affairs-bureau", "区民政局", "District Civil Affairs Bureau"),
    ("street-office", "东华门街道办事处", "Donghuamen Street Office"),
]


def _square(lon: float, lat: float, size: float = 0.001) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


def demo_phone(email: str) -> str | None:
    """Every demo account's mobile number: +86 138 0013 80xx (the README's table)."""
    fixed = {
        "admin@example.org": 0,
        "committee@example.org": 1,
        "committee.b@example.org": 2,
        "gridworker@example.org": 3,
        "supervisor@example.org": 4,
        "resident.b@example.org": 50,
        "newcomer@example.org": 90,
        **{f"liaison.{code}@example.org": 5 + i for i, (code, _zh, _en) in enumerate(AGENCIES)},
        **{f"resident{n}@example.org": 20 + n for n in range(1, 30)},
        **{f"resident.b{n}@example.org": 50 + n for n in range(2, 10)},
    }
    n = fixed.get(email)
    return None if n is None else f"+86138001380{n:02d}"


def _user(email: str, name: str, locale: str = "zh_Hans") -> User:
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None:
        phone = demo_phone(email)
        user = User(
            email=email,
            phone=phone,
            phone_verified_at=clock.now() if phone else None,
            display_name=name,
            locale=locale,
            password_hash=_hash(),
            email_confirmed_at=clock.now(),
        )
        db.session.add(user)
        db.session.flush()
    return user


def _ensure_demo_phones() -> None:
    """Demo data loaded before accounts had numbers gets them (``flask demo`` again)."""
    for user in db.session.scalars(
        db.select(User).where(User.phone.is_(None), User.email.like("%@example.org"))
    ):
        phone = demo_phone(user.email or "")
        if phone is not None:
            user.phone, user.phone_verified_at = phone, clock.now()
    db.session.flush()


_cached_hash: list[str] = []


def _hash() -> str:
    if not _cached_hash:
        _cached_hash.append(hash_password(PASSWORD))
    return _cached_hash[0]


def _ensure_grant(user: User, role: Role, scope: str) -> None:
    from portal.roles.services import RoleError

    try:
        grant(None, user, role, scope)
    except RoleError as err:
        if err.code != "already_granted":
            raise


def _resident(user: User, community_code: str) -> None:
    from portal.places.services import community_by_code
    from portal.residency.services import _move_resident

    community = community_by_code(community_code)
    if community is None:  # the demo's places are loaded first
        raise LookupError(f"no community {community_code}")
    if user.community_id == community.id:
        return
    db.session.add(
        ResidencyRequest(
            user_id=user.id,
            community_id=community.id,
            address_note="",
            status=ResidencyStatus.confirmed,
            decided_at=clock.now(),
        )
    )
    _move_resident(user, community)


def ensure_categories() -> None:
    from portal.proposals.models import Category

    for position, (code, zh, en, icon) in enumerate(CATEGORIES):
        if db.session.scalar(db.select(Category).where(Category.code == code)) is None:
            db.session.add(
                Category(code=code, name_zh=zh, name_en=en, icon=icon, position=position)
            )
    db.session.flush()


# The TOTP secret of every demo staff account (two-step sign-in), known to everyone: scripted
# demos, the browser journeys, the scanners and the benchmark answer the second step with it
# (``portal.demo.totp``). Only ``flask demo`` sets it: production never makes such accounts.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105  # nosec B105 - documented demo secret


def _ensure_demo_totp() -> None:
    """Every demo account holding a role signs in with the demo's second factor."""
    from portal.roles.models import RoleGrant

    staff = db.select(RoleGrant.user_id).where(RoleGrant.user_id == User.id).exists()
    for user in db.session.scalars(
        db.select(User).where(
            User.email.like("%@example.org"), User.totp_enabled_at.is_(None), staff
        )
    ):
        user.totp_secret = DEMO_TOTP_SECRET
        user.totp_enabled_at = clock.now()
    db.session.flush()


def load_demo() -> bool:
    """Create what is missing; returns False when everything was already there."""
    ensure_categories()
    if db.session.scalar(db.select(User.id).where(User.email == "admin@example.org")):
        _ensure_demo_phones()
        _ensure_demo_totp()
        return False
    for level, code, zh, en, parent in PLACES:
        upsert_place(
            {
                "level": level,
                "code": code,
                "name_zh": zh,
                "name_en": en,
                "parent_code": parent,
                "timezone": "Asia/Shanghai",
            },
            "demo",
        )
    for i, community in enumerate(("110101001001", "110101001002")):
        for n in range(1, 4):
            upsert_place(
                {
                    "level": "grid",
                    "code": f"{community}{n:03d}",
                    "name_zh": f"第{n}网格",
                    "name_en": f"Grid {n}",
                    "geometry": _square(116.400 + 0.001 * n, 39.920 + 0.002 * i),
                },
                "demo",
            )
    from portal.places.models import District

    district = db.session.scalar(db.select(District).where(District.code == "110101"))
    for code, zh, en in AGENCIES:
        if db.session.scalar(db.select(Agency).where(Agency.code == code)) is None:
            db.session.add(Agency(code=code, name_zh=zh, name_en=en, district_id=district.id))
    db.session.flush()

    _ensure_grant(_user("admin@example.org", "平台管理员", "zh_Hans"), Role.admin, "")
    _ensure_grant(_user("committee@example.org", "王主任"), Role.committee, "110101001001")
    _ensure_grant(_user("committee.b@example.org", "李委员"), Role.committee, "110101001002")
    _ensure_grant(_user("gridworker@example.org", "张网格员"), Role.grid_worker, "110101001001")
    _ensure_grant(_user("supervisor@example.org", "赵督办"), Role.supervisor, "110101")
    for code, zh, _en in AGENCIES:
        _ensure_grant(_user(f"liaison.{code}@example.org", f"{zh}联络员"), Role.liaison, code)
    names = ["陈阿姨", "刘师傅", "Sam Lee", "周老师", "吴同学"]
    for n, name in enumerate(names, start=1):
        _resident(
            _user(f"resident{n}@example.org", name, "en" if n == 3 else "zh_Hans"), "110101001001"
        )
    _resident(_user("resident.b@example.org", "孙大爷"), "110101001002")
    from portal.places.services import community_by_code

    demo = community_by_code("110101001001")
    if demo is None:
        raise LookupError("no community 110101001001")
    demo.support_minimum, demo.support_percent = 3, 1.0
    from portal.cases.services import set_rule
    from portal.proposals.models import Category

    agencies = {a.code: a for a in db.session.scalars(db.select(Agency))}
    for category_code, agency_code in ROUTES.items():
        category = db.session.scalar(db.select(Category).where(Category.code == category_code))
        set_rule(None, category, district, agencies[agency_code])
    set_rule(None, None, district, agencies["street-office"])
    _ensure_demo_totp()
    db.session.flush()
    return True


def credentials() -> str:
    """Who to sign in as, for ``flask demo`` to print."""
    rows = [
        ("administrator", "admin@example.org"),
        ("committee, 多福巷社区 110101001001", "committee@example.org"),
        ("committee, 银闸社区 110101001002", "committee.b@example.org"),
        ("grid worker, 多福巷社区", "gridworker@example.org"),
        ("supervisor, district 110101", "supervisor@example.org"),
        *((f"liaison, {zh}", f"liaison.{code}@example.org") for code, zh, _en in AGENCIES),
        ("residents, 多福巷社区", "resident1@example.org … resident29@example.org"),
        ("residents, 银闸社区", "resident.b@example.org, resident.b2@ … resident.b9@example.org"),
        ("waiting to join 多福巷社区", "newcomer@example.org"),
    ]
    width = max(len(email) for _role, email in rows)
    lines = [f"Sign in at /login as any of these; every password is {PASSWORD}"]
    lines += [f"  {email.ljust(width)}  {role}" for role, email in rows]
    lines += [
        "Or with the account's mobile number, +86 138 0013 80xx (admin 00, committee 01 and 02,",
        "grid worker 03, supervisor 04, liaisons 05-11, resident1… 21…, resident.b 50,",
        "newcomer 90): the SMS code is printed here, and `flask outbox list --to NUMBER` shows it.",
        f"Staff accounts then ask for two-step sign-in: add the TOTP secret {DEMO_TOTP_SECRET}",
        "to an authenticator app (or run: python tools/totp_code.py ACCOUNT) and enter its code.",
    ]
    return "\n".join(lines)

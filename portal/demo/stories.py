"""The demo's stories: what the residents of 多福巷社区 and 银闸社区 raised, supported and
discussed over the last four months, and what the committees, agencies, grid worker and
supervisor did about it. Each story is a generator played by ``portal.demo.life.Life``: it
yields the moment of its next step and takes that step through the services when resumed.

Between them they leave proposals in every state (draft, waiting for review, changes requested,
rejected with a reason, open at every stage of support, close to the threshold, closing soon,
expired, withdrawn, became a case) and cases at every stage (just filed, dispatched and late,
accepted, in progress on time and late, returned and re-routed, returned and waiting, an
extension asked for, resolved and being verified, reopened, closed with the residents'
feedback, closed as not the agency's responsibility), with discussions, a hidden comment, an
appeal, a report waiting for the committee and a residency request waiting for confirmation.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime

from portal.cases import services as case_services
from portal.core import clock
from portal.deliberation import services as deliberation_services
from portal.demo.life import Life, StoryFunction
from portal.proposals import services as proposal_services
from portal.proposals.models import Proposal

DUOFU = "110101001001"  # 多福巷社区, the demo community
YINZHA = "110101001002"  # 银闸社区
COMMITTEE = "committee@example.org"  # 王主任, 多福巷
COMMITTEE_B = "committee.b@example.org"  # 李委员, 银闸
SUPERVISOR = "supervisor@example.org"
GRID_WORKER = "gridworker@example.org"
ADMIN = "admin@example.org"
# The accounts the README lists: the proposal one support short of its threshold is left for
# them to push over it.
DOCUMENTED = [f"resident{n}@example.org" for n in range(1, 6)]

# 多福巷's neighbours beyond the five documented residents; the first one marks the stories as
# played (``life.already_lived``).
NEIGHBOURS = [
    "王大妈",
    "李建国",
    "张秀英",
    "赵磊",
    "孙丽娟",
    "马晓东",
    "黄志强",
    "何静",
    "郭师傅",
    "林小雨",
    "高阿姨",
    "罗老师",
    "郑伟",
    "梁红",
    "宋大爷",
    "唐敏",
    "许明",
    "韩雪",
    "冯建华",
    "曹丽",
    "彭老伯",
    "董佳",
    "袁师傅",
    "蒋晓峰",
]
MARKER_EMAIL = "resident6@example.org"
YINZHA_NEIGHBOURS = ["钱阿姨", "周建平", "吴晓燕", "郑大爷", "王磊", "刘芳", "陈思远", "杨丽"]
ADDRESSES = ["3号院", "5号院", "7号院", "9号院", "12号院", "14号院", "16号院", "银闸胡同2号"]


def r(n: int) -> str:
    """多福巷's n-th resident (1–5: the documented accounts)."""
    return f"resident{n}@example.org"


def grid(n: int, community: str = DUOFU) -> str:
    return f"{community}{n:03d}"


# --- shared steps ------------------------------------------------------------------------------


def opened(
    life: Life,
    author: str,
    text: dict,
    written: datetime,
    review_at: str = "10:00",
    *,
    community: str = DUOFU,
    committee: str = COMMITTEE,
) -> Generator[datetime, None, Proposal]:
    """Written and submitted at ``written``, approved by the committee at ``review_at`` on a
    following working day."""
    yield written
    p = life.propose(author, community, text)
    yield life.next_work(review_at, days=1)
    proposal_services.review(life.user(committee), p, "approve")
    return p


def gather(
    life: Life, p: Proposal, n: int, until: datetime, *, besides: list[str] | None = None
) -> Generator[datetime, None, None]:
    """``n`` more neighbours support ``p`` from now on, the last one at ``until``."""
    who = life.backers(p, n, besides=besides or [])
    for when, user in zip(life.spread(clock.now(), until, n), who, strict=True):
        yield when
        proposal_services.support(user, p)


def feedback(life: Life, p: Proposal, answers: list[tuple[bool, int, str]]):
    """Supporters who have not answered yet answer "is it solved?" a few hours apart (the
    author first)."""
    case = life.case(p)
    asked = [u for u in life.supporters(p) if not case_services.has_answered(u, case)]
    for user, (solved, satisfaction, comment) in zip(asked, answers, strict=False):
        yield life.after(hours=life.rng.randint(2, 9))
        case_services.give_feedback(
            user, case, solved=solved, satisfaction=satisfaction, comment=comment
        )


# --- people ------------------------------------------------------------------------------------


def neighbours_move_in(life: Life):
    """The admin sets 多福巷's support rules; the neighbours sign up and are confirmed."""
    yield life.work(128, "09:30")
    proposal_services.set_support_rules(
        life.user(ADMIN), life.community(DUOFU), minimum=10, percent=1.0, window_days=30
    )
    for i, name in enumerate(NEIGHBOURS):
        yield life.day(127 - i // 3, f"{9 + (i % 3) * 3}:{(i * 7) % 60:02d}")
        yield from life.join(r(6 + i), name, DUOFU, f"多福巷{ADDRESSES[i % 7]}", decider=COMMITTEE)
    yield life.day(119, "19:40")
    yield from life.join(
        "huishou@example.org", "回收小马", DUOFU, "多福巷16号院", decider=COMMITTEE
    )


def yinzha_neighbours_move_in(life: Life):
    for i, name in enumerate(YINZHA_NEIGHBOURS):
        yield life.day(124 - i, "10:15")
        yield from life.join(
            f"resident.b{i + 2}@example.org",
            name,
            YINZHA,
            f"银闸胡同{3 + 2 * i}号",
            decider=COMMITTEE_B,
        )


def newcomer_waits(life: Life):
    yield life.day(2, "21:05")
    yield from life.join(
        "newcomer@example.org", "杨帆", DUOFU, "多福巷9号院2单元（租住）", decider=None
    )


# --- cases that closed ---------------------------------------------------------------------------

WEEKEND_CLINIC = {
    "title": "社区卫生服务站周六上午开诊",
    "summary": "多福巷社区卫生服务站只在工作日开放，上班族和学生看小病、开药只能请假或去大医院"
    "排队。建议周六上午增设门诊。",
    "body": "社区卫生服务站（12号院南侧）现在周一到周五 8:00–17:00 开放，周末全天关门。\n\n"
    "很多年轻人工作日上班，孩子周一到周五上学，小病小痛、复查开药只能请假，或者周末去大医院"
    "排长队。老人的慢病药也常常赶在周末吃完。\n\n"
    "建议：\n\n"
    "1. 周六上午 8:00–12:00 开诊，至少安排一名全科医生和一名护士；\n"
    "2. 周六可以办理慢病长处方续方；\n"
    "3. 在服务站门口和社区公众号公布周末值班安排。",
    "category": "health",
    "grid": grid(1),
    "place": "12号院南侧 社区卫生服务站",
}


def weekend_clinic(life: Life):
    """Closed, resolved on time; most supporters satisfied."""
    p = yield from opened(life, r(4), WEEKEND_CLINIC, life.day(118, "20:30"), "10:05")
    yield from gather(life, p, 3, life.day(114, "19:00"))
    yield life.day(114, "20:10")
    life.comment(r(16), p, "我有高血压，每个月都要开药，周末能开药就好了。", "for")
    yield life.day(113, "08:40")
    question = life.comment(r(18), p, "周六开诊的话，医保能正常刷吗？", "question")
    yield life.day(113, "12:15")
    life.comment(r(4), p, "问过服务站了，医保系统周六也能用。", parent=question)
    yield life.day(112, "21:30")
    doubt = life.comment(
        r(17),
        p,
        "医生本来就不够，周六再加班会不会影响工作日的服务？建议先试行一段时间。",
        "against",
    )
    yield life.work(111, "09:20")
    life.comment(
        COMMITTEE,
        p,
        "居委会会把大家的意见一并转给区卫健委，建议试行期间收集居民反馈。",
        parent=doubt,
    )
    yield from gather(life, p, 6, life.day(104, "18:45"))
    case = life.case(p)
    health = life.liaison(case)
    yield life.next_work("09:20")
    life.act(health, case, "accept")
    yield life.next_work("15:00")
    life.act(
        health,
        case,
        "plan",
        note="协调东华门社区卫生服务中心抽调全科医生和护士，周六上午开诊，两周内开始试行。",
        expected_at=life.expected(case, 14),
    )
    yield life.after(hours=1)
    life.comment(
        health,
        p,
        "已协调社区卫生服务中心抽调人员，工作日门诊不受影响；周六门诊两周内开始"
        "试行，欢迎大家试行后反馈。",
        parent=doubt,
    )
    yield life.work(95, "11:00")
    life.act(health, case, "progress", note="人员排班已完成，门口公示牌正在制作。")
    yield life.work(90, "16:30")
    life.act(
        health,
        case,
        "resolve",
        note="自本周六起，服务站周六 8:00–12:00 开诊，配备全科医生、护士各一名，可以办理慢病"
        "续方。排班表已在服务站门口和社区公众号公布。",
    )
    yield from feedback(
        life,
        p,
        [
            (True, 5, "给老人续方不用再请假了，谢谢！"),
            (True, 5, "上周六带孩子去看咳嗽，十分钟就看上了。"),
            (True, 4, "医生很耐心，希望以后周日也能开半天。"),
            (True, 4, ""),
            (False, 2, "周六去了一次，药房没人，开不了药。"),
            (True, 5, ""),
        ],
    )
    yield life.next_work("10:30")
    life.act(
        life.user(GRID_WORKER),
        case,
        "verify",
        passed=True,
        note="周六上午现场查看：服务站正常开诊，公示牌已张贴，候诊居民 6 人，药房有人值守。",
    )


EXERCISE_KIT = {
    "title": "更换小广场破损健身器材",
    "summary": "小广场的健身器材用了十几年，漫步机踏板断裂、单杠锈蚀，已经有老人差点摔倒。建议"
    "尽快检修更换，并增加适合老人的器材。",
    "body": "小广场（多福巷与银闸胡同交叉口）现有健身器材 8 件，大多是十几年前安装的：\n\n"
    "- 漫步机左侧踏板断裂，一踩就晃；\n"
    "- 单杠、双杠锈蚀严重，手握的地方有毛刺；\n"
    "- 太空漫步机轴承异响。\n\n"
    "上个月有位老人在漫步机上差点摔倒。建议先封闭损坏的器材，尽快更换；增加适合老年人的"
    "上肢牵引器、腰背按摩器；地面铺设防滑地垫。",
    "category": "recreation",
    "grid": grid(2),
    "place": "多福巷与银闸胡同交叉口 小广场",
}
BROKEN_KIT_AGAIN = {
    "title": "小广场健身器材该修了",
    "summary": "广场上的漫步机坏了好久了，单杠也生锈了，希望有人管一管。",
    "body": "每天早上去小广场锻炼，漫步机的踏板断了，单杠一握一手锈。希望社区找人修一修。",
    "category": "recreation",
    "grid": grid(2),
    "place": "小广场",
}


def exercise_kit(life: Life):
    """Resolved, failed the site check and reopened, resolved again and closed; a duplicate
    proposal was rejected pointing to it."""
    p = yield from opened(life, r(6), EXERCISE_KIT, life.day(112, "09:10"), "14:20")
    yield from gather(life, p, 2, life.day(109, "08:10"))
    yield life.day(109, "09:30")
    life.comment(r(20), p, "天天去广场遛弯，那个漫步机早就坏了，得赶紧修。", "for")
    yield life.day(109, "16:00")
    duplicate = life.propose(r(20), DUOFU, BROKEN_KIT_AGAIN)
    yield life.work(108, "10:40")
    proposal_services.review(
        life.user(COMMITTEE),
        duplicate,
        "reject",
        reason_code="duplicate",
        duplicate_of=p,
        note="与《更换小广场破损健身器材》内容相同，欢迎到原提议附议和讨论。",
    )
    yield life.day(107, "20:45")
    kids = life.comment(r(15), p, "建议顺便加一些小朋友能玩的，比如小滑梯。", "for")
    yield life.day(107, "21:30")
    life.comment(r(6), p, "儿童设施可以另外提一个提议，这个先把安全问题解决。", parent=kids)
    yield from gather(life, p, 7, life.day(100, "07:50"))
    case = life.case(p)
    culture = life.liaison(case)
    yield life.next_work("10:00")
    life.act(culture, case, "accept")
    yield life.next_work("15:10")
    life.act(
        culture,
        case,
        "plan",
        note="已联系器材供应商现场勘查，计划更换损坏器材 5 件，新增适老器材 3 件，铺设防滑地垫。",
        expected_at=life.expected(case, 16),
    )
    yield life.work(90, "11:20")
    life.act(culture, case, "progress", note="旧器材已拆除，新器材已到货，正在安装。")
    yield life.work(84, "17:00")
    life.act(
        culture,
        case,
        "resolve",
        note="已更换漫步机、单杠、双杠等 5 件器材，新增上肢牵引器等适老器材 3 件，铺设防滑地垫"
        " 40 平方米。",
    )
    yield from feedback(
        life,
        p,
        [
            (True, 4, "新器材不错，老人们很喜欢。"),
            (False, 2, "单杠底座晃，孩子们在上面玩很危险。"),
        ],
    )
    yield life.next_work("10:15")
    life.act(
        life.user(GRID_WORKER),
        case,
        "verify",
        passed=False,
        note="现场核查：新装单杠底座螺栓未紧固，晃动明显；防滑地垫边缘翘起，有绊倒隐患。",
    )
    yield life.day(82, "19:20")
    when = life.comment(r(9), p, "返工要多久？现在单杠用警戒带围起来了。", "question")
    yield life.next_work("09:40")
    life.comment(
        culture,
        p,
        "施工队本周内完成加固，完成后请网格员复查。",
        parent=when,
    )
    yield life.work(80, "14:00")
    life.act(culture, case, "progress", note="施工人员已重新紧固单杠底座，正在更换翘起的地垫。")
    yield life.work(77, "16:10")
    life.act(
        culture,
        case,
        "resolve",
        note="单杠底座已加固并做了承重测试，地垫已重新铺设固定。",
    )
    yield from feedback(
        life,
        p,
        [
            (True, 5, "这回结实了，谢谢！"),
            (True, 4, ""),
            (True, 5, "老人们每天早上都去锻炼。"),
        ],
    )
    yield life.next_work("09:50")
    life.act(
        life.user(GRID_WORKER),
        case,
        "verify",
        passed=True,
        note="复查：单杠稳固，地垫平整，8 件器材均可正常使用。",
    )


SUNSHADE = {
    "title": "乒乓球台加装遮阳棚",
    "summary": "小广场的两张乒乓球台夏天暴晒，下午根本没法打球。建议加装遮阳棚，顺便换一下球网。",
    "body": "小广场西侧的两张乒乓球台是大家最常用的，可是周围没有一棵树，夏天下午台面烫手。\n\n"
    "建议加装可拆卸的遮阳棚，冬天可以拆下；两张台子的球网都破了，请一并更换。",
    "category": "recreation",
    "grid": grid(2),
    "place": "小广场西侧 乒乓球台",
}


def sunshade(life: Life):
    """Closed on time, every answer satisfied."""
    p = yield from opened(life, r(12), SUNSHADE, life.day(79, "13:30"), "09:45")
    yield from gather(life, p, 9, life.day(66, "17:20"))
    case = life.case(p)
    culture = life.liaison(case)
    yield life.next_work("09:30")
    life.act(culture, case, "accept")
    yield life.next_work("11:00")
    life.act(
        culture,
        case,
        "plan",
        note="安装可拆卸遮阳棚两组，同步更换两张球台的球网。",
        expected_at=life.expected(case, 12),
    )
    yield life.work(55, "15:40")
    life.act(culture, case, "resolve", note="遮阳棚两组已安装，两张球台的球网已更换。")
    yield from feedback(
        life,
        p,
        [
            (True, 5, "下午也能打球了！"),
            (True, 5, ""),
            (True, 4, "遮阳棚再大一点就更好了。"),
            (True, 5, ""),
        ],
    )
    yield life.next_work("10:20")
    life.act(
        life.user(GRID_WORKER),
        case,
        "verify",
        passed=True,
        note="现场查看：遮阳棚安装牢固，球网完好。",
    )


PIPES = {
    "title": "3号院院内水管老化经常漏水",
    "summary": "3号院院内的自来水主管道老化，一个月漏了三次，每次停水大半天。"
    "希望有关部门统一更换。",
    "body": "3号院住着 20 多户，院里的自来水主管道是八十年代铺的。最近一个月漏了三次，每次都要"
    "关总阀停水大半天，院里地面也泡坏了。\n\n希望有关部门统一更换院内主管道。",
    "category": "other",
    "grid": grid(2),
    "place": "3号院",
}


def pipes(life: Life):
    """Returned by the street office and closed by the supervisor: not its responsibility."""
    p = yield from opened(life, r(24), PIPES, life.day(73, "20:00"), "10:30")
    yield from gather(life, p, 9, life.day(60, "12:40"))
    case = life.case(p)
    yield life.next_work("10:10")
    life.act(
        life.liaison(case),
        case,
        "return",
        note="经核实，该管道位于院内，属产权单位（房管所）的维修范围，不属于街道办事处职责。"
        "已将情况转告房管所。",
    )
    yield life.next_work("14:30")
    life.act(
        life.user(SUPERVISOR),
        case,
        "close",
        reason_code="not-responsible",
        note="院内管道属产权单位维修范围，已转房管所处理；居民可直接向房管所报修，居委会跟进进度。",
    )
    yield life.day(57, "20:30")
    chase = life.comment(r(24), p, "房管所说报修要排队，居委会能帮忙催一下吗？", "question")
    yield life.next_work("09:15")
    life.comment(
        COMMITTEE,
        p,
        "居委会已和房管所约好下周入户查看管道，进展会在这里告诉大家。",
        parent=chase,
    )


# --- cases under way ---------------------------------------------------------------------------

WASTE_STATION = {
    "title": "12号院垃圾驿站异味大、夜间清运噪音扰民",
    "summary": "12号院门口的垃圾分类驿站异味很重，清运车常在夜里十一点以后作业，噪音影响休息。"
    "建议每天冲洗驿站、调整清运时间。",
    "body": "12号院门口的垃圾分类驿站服务周边四个院，大约 300 户。\n\n"
    "存在的问题：\n\n"
    "1. 厨余垃圾桶满了也不及时清运，异味很重；\n"
    "2. 驿站地面没人冲洗，污水流到胡同里；\n"
    "3. 清运车经常晚上 11 点以后来，压缩作业声音很大，临街住户睡不好。\n\n"
    "建议：厨余垃圾每天至少清运两次，每天冲洗驿站地面；清运时间调整到早 7 点至晚 9 点之间。",
    "category": "environment",
    "grid": grid(1),
    "place": "12号院门口 垃圾分类驿站",
}


def waste_station(life: Life):
    """Returned by the environment bureau, re-routed by the supervisor to urban management,
    accepted and in progress on time."""
    p = yield from opened(life, r(2), WASTE_STATION, life.day(33, "21:15"), "09:50")
    yield from gather(life, p, 2, life.day(30, "20:00"))
    yield life.day(30, "22:10")
    life.comment(r(13), p, "我家临街，每天晚上都被清运车吵醒，强烈支持。", "for")
    yield life.day(29, "07:40")
    move = life.comment(r(11), p, "驿站能不能挪到胡同外面去？", "question")
    yield life.next_work("10:30")
    life.comment(
        COMMITTEE,
        p,
        "驿站位置涉及用地，居委会先和有关部门沟通，之后在议事会上和大家商量。",
        parent=move,
    )
    yield from gather(life, p, 7, life.day(11, "18:30"))
    case = life.case(p)
    yield life.next_work("10:00")
    life.act(
        life.liaison(case),
        case,
        "return",
        note="生活垃圾清运和驿站管理属于城市管理部门职责，建议改派区城市管理委员会。",
    )
    yield life.next_work("15:30")
    life.act(
        life.user(SUPERVISOR),
        case,
        "reroute",
        agency=life.agency("urban-management-bureau"),
        note="按职责分工改派区城市管理委员会。",
    )
    urban = life.liaison(case)
    yield life.next_work("09:10", days=1)
    life.act(urban, case, "accept")
    yield life.next_work("14:00")
    life.act(
        urban,
        case,
        "plan",
        note="已约谈清运公司：清运时间调整为 7:00–21:00，厨余垃圾每天清运两次，驿站每天冲洗；"
        "十天内完成驿站地面防渗改造。",
        expected_at=life.expected(case, 10),
    )
    yield life.after(minutes=40)
    life.comment(
        urban,
        p,
        "已要求清运公司从下周一起晚上 9 点以后不再作业，欢迎居民监督。",
        parent=move,
    )
    yield life.work(3, "11:00")
    life.act(urban, case, "progress", note="清运时间已调整；驿站地面防渗改造正在施工。")


STREET_LIGHTS = {
    "title": "胡同西口路灯不亮，夜间出行不安全",
    "summary": "多福巷西口的三盏路灯坏了快一个月，晚上漆黑一片，老人和下晚班的居民走路很不安全。"
    "建议尽快修复。",
    "body": "从西口到14号院这一段有三盏路灯，已经快一个月不亮了。晚上七点以后就看不清路，"
    "地面还有几处不平。\n\n上周有位快递员骑车在这里摔倒。建议尽快修复路灯，必要时加装一盏。",
    "category": "safety",
    "grid": grid(3),
    "place": "多福巷西口至14号院",
}


def street_lights(life: Life):
    """Returned by the police: waiting for the supervisor to re-route it."""
    p = yield from opened(life, r(10), STREET_LIGHTS, life.day(21, "22:00"), "09:30")
    yield from gather(life, p, 3, life.day(17, "21:00"))
    yield life.day(17, "23:05")
    life.comment(
        r(3),
        p,
        "I walk home from the subway late. The west end is pitch dark, please fix it.",
        "for",
    )
    yield life.day(16, "08:20")
    life.comment(r(29), p, "上周有快递员在那儿骑车摔了，确实危险。", "for")
    yield from gather(life, p, 6, life.day(4, "19:30"))
    case = life.case(p)
    yield life.next_work("10:30")
    life.act(
        life.liaison(case),
        case,
        "return",
        note="路灯设施的维护属于城市照明管理部门职责，我局无法处置，请改派。夜间巡逻已安排民警"
        "加强。",
    )


ROAD_HOLE = {
    "title": "修复7号院门前塌陷路面",
    "summary": "7号院门前路面塌陷出一个长约两米的坑，雨天积水，电动车和行人经过很危险。",
    "body": "7号院门前的路面上个月开始下沉，现在已经是一个长约两米、深十几厘米的坑。下雨天"
    "积满水看不出深浅，已经有电动车在这里摔倒。\n\n建议尽快查明原因并修复路面，修好之前先设置"
    "警示标志。",
    "category": "public-space",
    "grid": grid(2),
    "place": "7号院门前",
}


def road_hole(life: Life):
    """In progress and past its handling limit; an angry comment hidden, its author appeals."""
    p = yield from opened(life, r(7), ROAD_HOLE, life.day(56, "19:50"), "10:10")
    yield from gather(life, p, 4, life.day(50, "20:20"))
    yield life.day(50, "21:00")
    life.comment(r(21), p, "我家老人上周在这儿崴了脚，请尽快修。", "for")
    yield from gather(life, p, 5, life.late_filing(ROAD_HOLE["category"], 4))
    case = life.case(p)
    urban = life.liaison(case)
    yield life.next_work("09:40")
    life.act(urban, case, "accept", note="已受理，安排道路养护单位现场勘察。")
    yield life.next_work("16:20")
    life.act(
        urban,
        case,
        "plan",
        note="经勘察为地下水管渗漏导致路基下沉，需与自来水公司协同开挖，计划两周内修复；"
        "现场已设置警示围挡。",
        expected_at=life.expected(case, 14),
    )
    yield life.work(20, "11:30")
    life.act(urban, case, "progress", note="自来水公司已完成管线检测，等待道路养护单位排期施工。")
    yield life.day(6, "20:40")
    where = life.comment(r(22), p, "现在施工到哪一步了？计划日期已经过了。", "question")
    yield life.next_work("10:00")
    life.comment(
        urban,
        p,
        "管线单位的施工排期推迟了，我们正在协调，本周内给出新的完成时间。抱歉让大家久等。",
        parent=where,
    )
    yield life.day(5, "21:40")
    angry = life.comment(r(9), p, "一个坑修了一个多月都修不好，这帮人就是吃干饭的废物！", "for")
    yield life.next_work("09:30")
    hidden = deliberation_services.moderate(
        life.user(COMMITTEE),
        "hide",
        "comment",
        angry.id,
        reason_code="offensive",
        note="含人身攻击。欢迎就进度提出意见，但请文明表达。",
    )
    yield life.after(hours=11)
    deliberation_services.appeal(
        life.user(r(9)),
        hidden,
        "我说的是事实，路面塌了一个多月没人管，只是措辞激动了一点，没有针对具体的人，请求恢复。",
    )


CALL_BUTTONS = {
    "title": "为独居老人安装紧急呼叫设备",
    "summary": "社区有四十多位独居老人，突发疾病时身边没人。建议为有需要的独居老人免费安装一键"
    "呼叫设备，连通社区和家属。",
    "body": "我们社区 70 岁以上的独居老人有四十多位。去年冬天，5号院一位老人夜里摔倒，第二天早上"
    "才被邻居发现。\n\n建议：\n\n"
    "- 为有需要的独居老人免费安装一键呼叫设备（床头和卫生间各一个）；\n"
    "- 呼叫同时通知家属和社区值班人员；\n"
    "- 网格员每月上门检查一次设备。",
    "category": "care",
    "place": "社区内独居老人家中",
}


def call_buttons(life: Life):
    """In progress; the agency asks the supervisor for more time."""
    p = yield from opened(life, r(1), CALL_BUTTONS, life.day(39, "10:00"), "11:15")
    yield from gather(life, p, 3, life.day(35, "18:00"))
    yield life.day(35, "19:10")
    life.comment(r(26), p, "我一个人住，晚上最怕心脏不舒服，很需要这个。", "for")
    yield life.day(34, "09:25")
    fee = life.comment(r(27), p, "设备需要老人自己付费吗？", "question")
    yield life.day(34, "12:00")
    life.comment(r(1), p, "提议里写的是免费，具体要看民政局的政策。", parent=fee)
    yield from gather(life, p, 6, life.day(19, "20:50"))
    case = life.case(p)
    civil = life.liaison(case)
    yield life.next_work("09:00")
    life.act(civil, case, "accept", note="已受理，正在摸排需要安装的老人名单。")
    yield life.next_work("15:30")
    life.act(
        civil,
        case,
        "plan",
        note="摸排独居老人 43 位，其中 31 位愿意安装；设备纳入区适老化改造项目统一采购。",
        expected_at=life.expected(case, 15),
    )
    yield life.work(2, "16:00")
    life.act(
        civil,
        case,
        "request_extension",
        note="设备须走区政府采购流程，供应商预计下月初到货，申请延长处置时限。",
        expected_at=life.later_than_limit(case, 10),
    )


BLOOD_PRESSURE = {
    "title": "社区增设自助血压测量点",
    "summary": "建议在社区党群服务中心一层设置自助血压测量点，方便老人日常监测血压，测量结果可以"
    "同步给家庭医生。",
    "body": "社区里高血压的老人很多，每天量血压要么自己买血压计，要么去服务站排队。\n\n"
    "建议在党群服务中心一层大厅放一台自助血压计，开放时间和服务中心一致，测量结果扫码就能"
    "同步给签约的家庭医生。",
    "category": "health",
    "place": "社区党群服务中心一层大厅",
}


def blood_pressure(life: Life):
    """Resolved: waiting for the grid worker's check, some supporters have answered."""
    p = yield from opened(life, r(16), BLOOD_PRESSURE, life.day(43, "09:40"), "14:00")
    yield from gather(life, p, 9, life.day(24, "10:30"))
    case = life.case(p)
    health = life.liaison(case)
    yield life.next_work("09:10")
    life.act(health, case, "accept")
    yield life.next_work("10:40")
    life.act(
        health,
        case,
        "plan",
        note="在党群服务中心一层安装自助血压计一台，并与家庭医生签约服务对接。",
        expected_at=life.expected(case, 18),
    )
    yield life.work(1, "15:00")
    life.act(
        health,
        case,
        "resolve",
        note="自助血压计已安装在党群服务中心一层大厅，开放时间 8:30–20:00，测量结果可以扫码同步给"
        "家庭医生。",
    )
    yield from feedback(life, p, [(True, 5, "今天去量了，很方便。"), (True, 4, "")])


FLOODING = {
    "title": "雨后多福巷东口积水严重",
    "summary": "每逢下雨，多福巷东口就积水二三十厘米，行人只能踩着砖头过，电动车常常熄火。建议"
    "疏通雨水口、改造排水。",
    "body": "东口地势低，两个雨水篦子常年被落叶和泥沙堵着。夏天一场大雨，积水能没过脚踝，"
    "要两三天才退。\n\n建议清掏雨水口、疏通排水管道，必要时改造排水设施。",
    "category": "public-space",
    "grid": grid(1),
    "place": "多福巷东口",
}


def flooding(life: Life):
    """Resolved, failed the site check and reopened: in progress again, on time."""
    p = yield from opened(life, r(14), FLOODING, life.day(54, "18:30"), "10:00")
    yield from gather(life, p, 9, life.day(40, "13:10"))
    case = life.case(p)
    urban = life.liaison(case)
    yield life.next_work("09:30")
    life.act(urban, case, "accept")
    yield life.next_work("11:10")
    life.act(
        urban,
        case,
        "plan",
        note="清掏东口两处雨水篦子，疏通排水管道约 60 米。",
        expected_at=life.expected(case, 10),
    )
    yield life.work(20, "16:00")
    life.act(
        urban,
        case,
        "resolve",
        note="已清掏雨水口两处、疏通管道 60 米，注水测试排水通畅。",
    )
    yield from feedback(
        life,
        p,
        [
            (False, 2, "前天下雨还是积水，没解决。"),
            (False, 1, ""),
            (True, 3, ""),
        ],
    )
    yield life.next_work("10:40")
    life.act(
        life.user(GRID_WORKER),
        case,
        "verify",
        passed=False,
        note="雨后现场核查：东口仍有约 10 厘米积水，雨水口排水缓慢，疑似下游管道堵塞。",
    )
    yield life.work(10, "15:20")
    life.act(
        urban,
        case,
        "progress",
        note="管道检测发现下游约 30 米处管道塌陷，需开挖修复，已报区排水集团。",
    )
    yield life.work(3, "11:00")
    life.act(urban, case, "progress", note="开挖修复方案已确定，施工前会在胡同口张贴通知。")


BIKES = {
    "title": "清理胡同南口乱停放的共享单车",
    "summary": "多福巷南口每天堆着几十辆共享单车，占满人行道，轮椅和婴儿车过不去。建议划定停放区"
    "并定时清理。",
    "body": "南口靠近地铁站，早晚高峰后共享单车堆成一片，人行道完全被占。坐轮椅的老人和推婴儿车"
    "的家长只能走机动车道。\n\n建议在南口外划定共享单车停放区，请单车企业每天定时清运。",
    "category": "public-space",
    "grid": grid(3),
    "place": "多福巷南口",
}


def bikes(life: Life):
    """Accepted, on time."""
    p = yield from opened(life, r(17), BIKES, life.day(20, "08:30"), "10:20")
    yield from gather(life, p, 9, life.day(3, "18:10"))
    case = life.case(p)
    yield life.next_work("11:00")
    life.act(
        life.liaison(case),
        case,
        "accept",
        note="已受理，将联系共享单车企业落实停放区划定和定时清运。",
    )


EVENING_ROOM = {
    "title": "晚上开放社区活动室",
    "summary": "社区活动室只在工作日白天开放，上班族下班后没有地方活动。建议每周一、三、五晚上 7 点"
    "到 9 点开放，由志愿者轮流值守。",
    "body": "党群服务中心二层的活动室白天主要是老年合唱团和书法班在用，晚上和周末都锁着。\n\n"
    "建议每周一、三、五晚上 7 点到 9 点开放，由居民志愿者轮流值守，可以组织读书会、太极拳、"
    "亲子活动。",
    "category": "recreation",
    "place": "社区党群服务中心二层活动室",
}


def evening_room(life: Life):
    """Dispatched and not accepted in time: overdue."""
    p = yield from opened(life, r(5), EVENING_ROOM, life.day(27, "22:10"), "09:55")
    yield from gather(life, p, 2, life.day(24, "20:00"))
    yield life.day(24, "20:30")
    life.comment(r(23), p, "可以组织晚上的合唱和太极拳，我报名。", "for")
    yield life.day(23, "12:10")
    who = life.comment(r(19), p, "志愿者谁来组织？需要培训吗？", "question")
    yield life.day(23, "18:45")
    life.comment(r(5), p, "我可以先报名，也欢迎大家一起，排班表可以放在群里。", parent=who)
    yield from gather(life, p, 7, life.day(6, "20:30"))


SCHOOL_GATE = {
    "title": "幼儿园门口上下学时段增派交通协管",
    "summary": "东华门幼儿园门口早晚接送时段车辆乱停、人车混行，建议增派交通协管员并设置临时禁停。",
    "body": "每天早上 8 点前后和下午 4 点半前后，幼儿园门口的胡同里挤满接送的汽车和电动车，孩子们"
    "只能在车缝里穿行。\n\n建议接送时段安排交通协管员值守，设置临时禁停标志，引导家长把车停到"
    "大街上的停车位。",
    "category": "safety",
    "grid": grid(3),
    "place": "东华门幼儿园门口",
}


def school_gate(life: Life):
    """Reached its threshold this morning: just filed and dispatched."""
    p = yield from opened(life, r(15), SCHOOL_GATE, life.day(16, "21:20"), "09:40")
    yield from gather(life, p, 9, life.recently(95))


# --- proposals --------------------------------------------------------------------------------

PLAY_CORNER = {
    "title": "在胡同北口设置儿童游戏角",
    "summary": "附近没有适合小孩子玩的地方。建议利用多福巷北口的闲置空地设置小型儿童游戏角，"
    "铺设软垫，配几样简单的游乐设施。",
    "body": "北口原来的自行车棚拆除以后，留下一块大约 80 平方米的空地，现在堆着杂物。\n\n"
    "社区里学龄前的孩子有三十多个，最近的游乐场在一公里以外。建议：\n\n"
    "- 清理空地，铺设软质地垫；\n"
    "- 安装小滑梯、摇摇马等简单设施；\n"
    "- 设置开放时间（早 8 点到晚 8 点），由居民共同制定使用公约。",
    "category": "recreation",
    "grid": grid(1),
    "place": "多福巷北口闲置空地（原自行车棚）",
}


def play_corner(life: Life):
    """Open, one support short of its threshold: a documented resident can push it over."""
    p = yield from opened(life, r(23), PLAY_CORNER, life.day(13, "20:00"), "10:00")
    yield from gather(life, p, 3, life.day(10, "19:00"), besides=DOCUMENTED)
    yield life.day(10, "20:15")
    life.comment(r(15), p, "孩子两岁，现在只能在胡同里追着跑，太危险了。", "for")
    yield life.day(9, "21:40")
    noise = life.comment(
        r(20), p, "北口晚上有人下棋聊天，游戏角建起来会不会很吵？希望规定开放时间。", "against"
    )
    yield life.day(9, "22:05")
    life.comment(r(23), p, "可以规定开放到晚上 8 点，也会请大家一起制定使用公约。", parent=noise)
    yield life.day(8, "09:10")
    upkeep = life.comment(r(25), p, "软垫坏了谁来维护？", "question")
    yield life.next_work("10:20")
    life.comment(
        COMMITTEE,
        p,
        "如果提议成案，后期维护可以纳入社区公共空间的日常管理，居委会也会招募志愿者。",
        parent=upkeep,
    )
    yield life.day(6, "13:30")
    spam = life.comment(
        "huishou@example.org",
        p,
        "上门回收旧家电、旧家具，价格公道，当天上门，需要的私信我。",
        "for",
    )
    yield life.next_work("09:05")
    deliberation_services.moderate(
        life.user(COMMITTEE),
        "hide",
        "comment",
        spam.id,
        reason_code="spam",
        note="与提议无关的广告。",
    )
    yield from gather(life, p, 5, life.day(1, "21:10"), besides=DOCUMENTED)


EV_CHARGING = {
    "title": "增设电动自行车集中充电桩",
    "summary": "不少居民从楼上拉电线给电动车充电，存在火灾隐患。建议在银闸胡同口停车棚增设集中"
    "充电桩，杜绝飞线充电。",
    "body": "晚上走一圈，能看到好几处从窗户里垂下来的充电线，有的就搭在电线杆上。电动自行车在"
    "楼道和院里充电，一旦起火后果不堪设想。\n\n建议在银闸胡同口的停车棚安装 20 个左右的智能"
    "充电插座，支持扫码付费、充满自动断电，并配备灭火器。",
    "category": "safety",
    "grid": grid(2),
    "place": "银闸胡同口停车棚",
}


def ev_charging(life: Life):
    """Open with 8 of 10 supports, closing in two days."""
    p = yield from opened(life, r(11), EV_CHARGING, life.day(29, "19:00"), "09:20")
    yield from gather(life, p, 4, life.day(20, "20:00"))
    yield life.day(20, "21:00")
    life.comment(r(18), p, "飞线充电太危险了，去年隔壁街道就因为这个着过火。", "for")
    yield life.day(19, "08:30")
    fee = life.comment(r(21), p, "充电怎么收费？会不会比在家充贵很多？", "question")
    yield life.day(19, "09:15")
    life.comment(r(11), p, "一般是一块钱充四五个小时，比家里贵一点，但安全。", parent=fee)
    yield from gather(life, p, 3, life.day(3, "17:45"))


MEALS = {
    "title": "老年餐桌为行动不便的老人送餐上门",
    "summary": "社区老年餐桌饭菜实惠，但行动不便的老人没法去吃。建议每天中午为登记的老人送餐上门，"
    "可以招募志愿者。",
    "body": "老年餐桌一份午餐 12 元，荤素搭配，很受欢迎。可是腿脚不好的老人下不了楼，"
    "只能吃剩饭。\n\n"
    "建议为登记的行动不便老人提供午餐送餐上门，由志愿者和餐桌工作人员配送，送餐费用尽量补贴。",
    "category": "care",
    "place": "社区老年餐桌（党群服务中心一层）",
}


def meals(life: Life):
    """Open, halfway."""
    p = yield from opened(life, r(8), MEALS, life.day(11, "10:30"), "14:10")
    yield from gather(life, p, 2, life.day(8, "12:00"))
    yield life.day(8, "12:30")
    life.comment(r(26), p, "我腿脚不好，很需要，一周能送三次也好。", "for")
    yield life.day(7, "19:45")
    life.comment(r(25), p, "我可以当送餐志愿者，中午有空。", "for")
    yield from gather(life, p, 3, life.day(2, "11:40"))


NOTICE_BOARD = {
    "title": "社区公告栏加装照明和防雨棚",
    "summary": "胡同里的公告栏晚上看不清，雨天通知被淋湿。建议加装照明灯和防雨棚。",
    "body": "社区的通知、议事会安排都贴在胡同中段的公告栏上，可是晚上没有灯，下班回来看不清；"
    "下雨天纸张被淋湿，没几天就掉了。\n\n建议加装一盏感应灯和一个防雨棚。",
    "category": "public-space",
    "grid": grid(2),
    "place": "多福巷中段 社区公告栏",
}


def notice_board(life: Life):
    """Open with few supports, closing in three days."""
    p = yield from opened(life, r(21), NOTICE_BOARD, life.day(28, "20:40"), "10:10")
    yield from gather(life, p, 2, life.day(15, "19:30"))


PAEDIATRICS = {
    "title": "社区卫生服务站增设儿科门诊时段",
    "summary": "服务站目前没有儿科，孩子发烧咳嗽只能去大医院。建议每周安排两个半天的儿科门诊。",
    "body": "社区里有不少年轻家庭，孩子一生病就得去儿童医院，挂号排队大半天。\n\n"
    "建议服务站每周安排两个半天的儿科门诊，可以请上级医院的儿科医生轮流坐诊。",
    "category": "health",
    "grid": grid(1),
    "place": "12号院南侧 社区卫生服务站",
}


def paediatrics(life: Life):
    """Open for two days."""
    p = yield from opened(life, r(13), PAEDIATRICS, life.day(3, "21:00"), "09:30")
    yield from gather(life, p, 1, life.day(1, "12:20"))


CONVEX_MIRROR = {
    "title": "多福巷与东华门大街路口加装凸面镜",
    "summary": "路口是个直角弯，出胡同的车看不见大街上的行人和自行车，已经发生过几次剐蹭。建议在"
    "路口对面墙上加装广角凸面镜。",
    "body": "从胡同开出来的车和骑车的人，只有探出半个车身才能看见大街上的情况。上个月就有一辆"
    "电动车和出租车剐蹭。\n\n建议在路口对面的墙上安装一面广角凸面镜，费用不高，效果明显。",
    "category": "safety",
    "grid": grid(3),
    "place": "多福巷与东华门大街路口",
}


def convex_mirror(life: Life):
    """Open, halfway; an off-topic comment reported yesterday, waiting for the committee."""
    p = yield from opened(life, r(18), CONVEX_MIRROR, life.day(16, "18:20"), "11:00")
    yield from gather(life, p, 4, life.day(4, "18:30"))
    yield life.day(2, "07:50")
    off_topic = life.comment(r(28), p, "路口那家早点铺的油条真不错，推荐大家去尝尝。", "for")
    yield life.day(1, "09:30")
    deliberation_services.report(
        life.user(r(18)), "comment", off_topic.id, "off-topic", "和提议内容无关。"
    )


SCHOOL_GROUND = {
    "title": "周末开放东华门小学操场",
    "summary": "附近没有像样的运动场地。建议周末和寒暑假白天，在做好登记的前提下向社区居民开放"
    "东华门小学操场。",
    "body": "东华门小学的操场有塑胶跑道和两个篮球场，周末一直锁着。\n\n"
    "建议学校在周末和寒暑假白天向社区居民开放，居民凭身份登记入校，由社区志愿者协助管理，"
    "安全责任和开放时间由学校、居委会和居民代表共同商定。",
    "category": "recreation",
    "grid": grid(3),
    "place": "东华门小学",
}


def school_ground(life: Life):
    """Opened yesterday: only its author supports it yet."""
    yield from opened(life, r(22), SCHOOL_GROUND, life.day(2, "20:30"), "10:30")


def waiting_for_review(life: Life):
    """A draft, two submissions waiting for review (one past its review date), one sent back
    for changes, one rejected as not of public interest."""
    yield life.day(33, "20:10")
    trees = life.propose(
        r(28),
        DUOFU,
        {
            "title": "要求12号院邻居修剪院内大树",
            "summary": "12号院的大树枝叶伸到我家屋顶，落叶堵住排水沟，希望邻居修剪。",
            "body": "邻居家院子里的槐树枝叶伸到我家屋顶上，秋天落叶堵排水沟，跟邻居说了几次都没有"
            "结果。",
            "category": "other",
            "grid": grid(1),
            "place": "12号院",
        },
    )
    yield life.next_work("10:00")
    proposal_services.review(
        life.user(COMMITTEE),
        trees,
        "reject",
        reason_code="not-public-interest",
        note="院内树木修剪属于邻里之间的事务，不是社区公共议题。建议联系人民调解委员会协调，"
        "居委会可以陪同沟通。",
    )

    yield life.day(10, "21:00")
    winter = life.propose(
        r(4),
        DUOFU,
        {
            "title": "寒假期间开设青少年托管班",
            "summary": "寒假期间双职工家庭的孩子白天没人照看。建议社区开设寒假托管班。",
            "body": "建议社区在寒假期间开设托管班，白天提供看护和作业辅导。",
            "category": "care",
        },
    )
    yield life.next_work("15:00")
    proposal_services.review(
        life.user(COMMITTEE),
        winter,
        "request_changes",
        note="请补充计划使用的场地、大致人数和看护人员安排，并说明与现有的“四点半课堂”有什么不同。",
    )
    yield life.day(5, "10:40")
    life.propose(
        r(25),
        DUOFU,
        {
            "title": "规范快递车辆在胡同内的停放",
            "summary": "快递三轮车每天在胡同里随意停放、分拣，堵住通道。建议设置固定的快递停靠点。",
            "body": "上午十点到下午两点，胡同中段经常停着三四辆快递三轮车，就地分拣，行人和车辆都"
            "过不去。\n\n建议和快递公司协商，在胡同口外设置固定的停靠和分拣点。",
            "category": "public-space",
            "grid": grid(2),
            "place": "多福巷中段",
        },
    )
    yield life.day(4, "22:30")
    life.propose(
        r(1),
        DUOFU,
        {
            "title": "楼道加装扶手，方便老人上下楼",
            "summary": "老楼的楼梯又陡又窄，没有扶手，老人上下楼很吃力。建议在楼道一侧加装扶手。",
            "body": "草稿：先问问其他楼门的邻居有没有同样的需要，再补充具体是哪几栋楼。",
            "category": "care",
            "place": "9号院、14号院楼道",
        },
        submit=False,
    )
    yield life.day(1, "19:20")
    life.propose(
        r(2),
        DUOFU,
        {
            "title": "胡同里增设几处休息座椅",
            "summary": "胡同很长，老人走一段就要歇一歇，却没有地方坐。"
            "建议在中段和北口增设几处座椅。",
            "body": "建议在胡同中段公告栏旁边和北口各放两张长椅，选用木质、带靠背和扶手的款式，"
            "不占用消防通道。",
            "category": "public-space",
            "grid": grid(2),
            "place": "多福巷中段、北口",
        },
    )


def expired_and_withdrawn(life: Life):
    """Two proposals whose window closed short of the threshold, and one withdrawn."""
    tools = yield from opened(
        life,
        r(19),
        {
            "title": "在社区设立共享工具房",
            "summary": "家家户户都备着一套很少用的工具。建议在社区设立共享工具房，居民登记借用。",
            "body": "电钻、梯子、扳手这些工具一年用不了几次。建议在党群服务中心找一间小屋做共享"
            "工具房，居民捐赠或社区采购，登记借用、按时归还。",
            "category": "other",
            "place": "社区党群服务中心",
        },
        life.day(72, "20:00"),
        "09:30",
    )
    yield from gather(life, tools, 3, life.day(60, "19:30"))
    market = yield from opened(
        life,
        r(27),
        {
            "title": "每月组织一次跳蚤市场",
            "summary": "建议每月第一个周六上午在小广场组织跳蚤市场，大家交换闲置物品。",
            "body": "家里的旧书、玩具、小家电放着可惜，扔了浪费。建议每月第一个周六上午在小广场"
            "组织一次跳蚤市场，只交换或低价转让闲置物品，不允许商贩进场。",
            "category": "recreation",
            "grid": grid(2),
            "place": "小广场",
        },
        life.day(57, "11:00"),
        "10:15",
    )
    yield from gather(life, market, 3, life.day(50, "18:00"))
    yield life.day(50, "19:10")
    narrow = life.comment(r(20), market, "小广场早上要锻炼，摆摊会不会挤占场地？", "against")
    yield life.day(50, "20:00")
    life.comment(r(27), market, "可以只摆广场东侧，十一点前收摊。", parent=narrow)
    yield from gather(life, market, 2, life.day(40, "12:00"))
    gate = yield from opened(
        life,
        r(9),
        {
            "title": "修缮5号院门楼",
            "summary": "5号院的老门楼瓦片脱落、门墩开裂，下雨时掉渣，存在安全隐患。建议尽快修缮。",
            "body": "5号院门楼是老北京的如意门，有上百年历史，现在瓦片脱落，门墩开裂。建议请有资质"
            "的单位按原样修缮。",
            "category": "public-space",
            "grid": grid(2),
            "place": "5号院门楼",
        },
        life.day(36, "21:00"),
        "11:30",
    )
    yield from gather(life, gate, 2, life.day(30, "20:00"))
    yield life.day(20, "19:00")
    proposal_services.withdraw(
        life.user(r(9)),
        gate,
        "产权单位已经安排修缮，下个月开工，这个提议不再需要了。谢谢大家的支持。",
    )


# --- 银闸社区 ---------------------------------------------------------------------------------


def yinzha(life: Life):
    """银闸: two proposals open (its threshold is the default 20), one waiting for review."""
    parking = yield from opened(
        life,
        "resident.b@example.org",
        {
            "title": "银闸胡同增设非机动车停放区",
            "summary": "胡同里电动车、自行车随处停放，消防通道经常被堵。"
            "建议划定几处非机动车停放区。",
            "body": "银闸胡同宽不到四米，两边停满电动车和自行车以后，救护车、消防车都进不来。\n\n"
            "建议在胡同口和中段各划一处非机动车停放区，地面画线、设置标识，由网格员定期巡查。",
            "category": "public-space",
            "grid": grid(1, YINZHA),
            "place": "银闸胡同口、中段",
        },
        life.day(10, "09:00"),
        "10:30",
        community=YINZHA,
        committee=COMMITTEE_B,
    )
    yield from gather(life, parking, 2, life.day(7, "20:00"))
    yield life.day(7, "20:40")
    life.comment("resident.b2@example.org", parking, "消防通道必须保证畅通，支持。", "for")
    yield life.day(6, "08:15")
    where = life.comment(
        "resident.b5@example.org", parking, "停放区划在哪里？别划到我家门口。", "question"
    )
    yield life.next_work("10:00")
    life.comment(
        COMMITTEE_B,
        parking,
        "具体位置会先在议事会上讨论，征求相关住户意见后再定。",
        parent=where,
    )
    yield from gather(life, parking, 2, life.day(2, "19:00"))
    books = yield from opened(
        life,
        "resident.b4@example.org",
        {
            "title": "社区图书角延长开放时间",
            "summary": "社区图书角只在工作日下午开放，孩子放学和大人下班后都赶不上。"
            "建议开放到晚上 8 点，周末也开放。",
            "body": "图书角有两千多册书，环境很好，可是开放时间是工作日 14:00–17:00。"
            "建议工作日开放到晚上 8 点、周末白天开放，由志愿者值守。",
            "category": "recreation",
            "place": "银闸社区居委会二层",
        },
        life.day(5, "21:00"),
        "09:45",
        community=YINZHA,
        committee=COMMITTEE_B,
    )
    yield from gather(life, books, 2, life.day(1, "20:30"))
    yield life.day(2, "18:00")
    life.propose(
        "resident.b6@example.org",
        YINZHA,
        {
            "title": "胡同口增设智能快递柜",
            "summary": "快递员常把包裹放在门口，丢件时有发生。建议在胡同口增设一组智能快递柜。",
            "body": "白天家里没人，快递经常放在门口或者小卖部，丢过好几次。建议在胡同口空地安装一组"
            "智能快递柜。",
            "category": "public-space",
            "grid": grid(2, YINZHA),
            "place": "银闸胡同口",
        },
    )


STORIES: list[StoryFunction] = [
    neighbours_move_in,
    yinzha_neighbours_move_in,
    newcomer_waits,
    weekend_clinic,
    exercise_kit,
    sunshade,
    pipes,
    waste_station,
    street_lights,
    road_hole,
    call_buttons,
    blood_pressure,
    flooding,
    bikes,
    evening_room,
    school_gate,
    play_corner,
    ev_charging,
    meals,
    notice_board,
    paediatrics,
    convex_mirror,
    school_ground,
    waiting_for_review,
    expired_and_withdrawn,
    yinzha,
]

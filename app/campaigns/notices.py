"""Privacy notices: each campaign's notice in Chinese and English, versioned; the newest is shown
on the claim form and a claim records the version its student accepted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from app.audit import trail as audit
from app.core.errors import N_, NotFound
from models.campaigns import Campaign
from models.privacy import NoticeIn, PrivacyNotice

DEFAULT_ZH = "\n\n".join(
    (
        "{mission}为向在校学生发放防疫健康包收集您的个人信息。",
        "我们收集什么：姓名、出生日期、学号或学校邮箱，用于核对您是否在册以及领取时核对身"
        "份；选择送货上门时收集地址和电话，仅供送货使用；活动要求时收集电话或微信。",
        "谁能看到：领馆工作人员；领取点志愿者只看到核对所需的部分姓名；司机只看到本车的送"
        "货地址和电话。查看未成年人地址或电话均有记录。",
        "保存多久：活动结束后最多 {days} 天（未成年人 {minor_days} "
        "天），之后自动删除；库存和发放数量仅以匿名统计保留。",
        "您的权利：您可以在领取状态页查看我们保存的信息，并可随时联系领馆要求导出或删除。",
    )
)

DEFAULT_EN = "\n\n".join(
    (
        "{mission} collects your personal data to give health kits to enrolled students.",
        "What we collect: your name, birth date and student number or school e-mail, to "
        "check that you are enrolled and to recognise you at pickup; for a delivery, your"
        " address and phone, used only to deliver; a phone or WeChat ID only when the "
        "campaign asks for it.",
        "Who sees it: consular staff; volunteers at a pickup point see only part of your "
        "name, enough to recognise you; a driver sees only the addresses and phones of "
        "their own vehicle's stops. Every look at a minor's address or phone is recorded.",
        "How long: at most {days} days after the campaign closes ({minor_days} days for "
        "minors), then it is erased automatically; stock and hand-over counts are kept "
        "only as anonymous figures.",
        "Your rights: your claim's status page shows what we hold about you; ask the "
        "consulate at any time for a copy or for erasure.",
    )
)


def default_texts(
    mission: str, days: int = 90, minor_days: int = 30, mission_zh: str | None = None
) -> tuple[str, str]:
    """The standard notice (zh, en) for a campaign of `mission` keeping data `days` days."""
    zh = DEFAULT_ZH.format(mission=mission_zh or mission, days=days, minor_days=minor_days)
    en = DEFAULT_EN.format(mission=mission, days=days, minor_days=minor_days)
    return zh, en


def current(session: Session, campaign_id: int) -> PrivacyNotice | None:
    """The newest notice of a campaign (None only for a campaign created without one)."""
    return session.scalars(
        select(PrivacyNotice)
        .where(PrivacyNotice.campaign_id == campaign_id)
        .order_by(PrivacyNotice.version.desc())
        .limit(1)
    ).first()


def current_id_select(campaign_id):  # noqa: ANN001, ANN201
    """A scalar subquery: the id of the newest notice of `campaign_id` (a bind or a column)."""
    return (
        select(PrivacyNotice.id)
        .where(PrivacyNotice.campaign_id == campaign_id)
        .order_by(PrivacyNotice.version.desc())
        .limit(1)
        .scalar_subquery()
    )


def add_version(
    session: Session, campaign: Campaign, *, text_zh: str, text_en: str, user_id: int | None
) -> PrivacyNotice:
    """Record a new version of the campaign's notice (part of the caller's transaction)."""
    last = session.exec(
        select(func.max(PrivacyNotice.version)).where(PrivacyNotice.campaign_id == campaign.id)
    ).one()
    notice = PrivacyNotice(
        campaign_id=campaign.id,
        version=(last[0] or 0) + 1,
        text_zh=text_zh,
        text_en=text_en,
        user_id=user_id,
    )
    session.add(notice)
    session.flush()
    return notice


def versions(*, session: Session, campaign_id: int) -> list[PrivacyNotice]:
    """Every version of a campaign's notice, the newest first."""
    _campaign(session, campaign_id)
    return list(
        session.scalars(
            select(PrivacyNotice)
            .where(PrivacyNotice.campaign_id == campaign_id)
            .order_by(PrivacyNotice.version.desc())
        )
    )


def publish(
    *, session: Session, campaign_id: int, data: NoticeIn, user_id: int | None
) -> PrivacyNotice:
    """Publish a new version of a campaign's notice (shown from now on); audited."""
    campaign = _campaign(session, campaign_id)
    notice = add_version(
        session, campaign, text_zh=data.text_zh, text_en=data.text_en, user_id=user_id
    )
    audit.record(
        session,
        user_id=user_id,
        action="campaign.notice",
        object_type="campaign",
        object_id=campaign.id,
        after={"version": notice.version, "text_zh": notice.text_zh, "text_en": notice.text_en},
    )
    session.commit()
    session.refresh(notice)
    return notice


def current_by_public_id(*, session: Session, public_id: str) -> PrivacyNotice:
    """The notice a campaign's claim form shows, by the campaign's public id."""
    campaign_id = session.scalars(
        select(Campaign.id).where(Campaign.public_id == public_id)
    ).first()
    if campaign_id is None:  # (the message of `service.unknown_campaign`)
        raise NotFound(N_("This campaign link is not valid. Check the link you were sent."))
    notice = current(session, campaign_id)
    if notice is None:
        raise NotFound(N_("This campaign has no privacy notice."))
    return notice


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:  # (the message of `service.get_campaign`)
        raise NotFound(N_("No campaign with id {id}."), params={"id": campaign_id})
    return campaign


def get_version(session: Session, campaign_id: int, version: int) -> PrivacyNotice:
    notice = session.scalars(
        select(PrivacyNotice).where(
            PrivacyNotice.campaign_id == campaign_id, PrivacyNotice.version == version
        )
    ).first()
    if notice is None:
        raise NotFound(
            N_("This campaign has no privacy notice version {version}."),
            params={"version": version},
        )
    return notice


@dataclass(frozen=True)
class Terms:
    """What a claim's student agreed to and until when their data is kept."""

    notice_version: int | None  # None: a claim made before notices (or without one)
    erase_after: datetime


def terms(session: Session, *, campaign_id: int, notice_id: int | None, minor: bool) -> Terms:
    """The notice version a claim accepted (`notice_id`) and the day its data expires."""
    campaign = _campaign(session, campaign_id)
    notice = session.get(PrivacyNotice, notice_id) if notice_id is not None else None
    return Terms(
        notice_version=notice.version if notice is not None else None,
        erase_after=erase_after(campaign, minor=minor),
    )


def erase_after(campaign: Campaign, *, minor: bool) -> datetime:
    """When a campaign's students' personal data expires: its close plus the retention period
    (the minors' shorter one for a minor)."""
    days = campaign.retention_days_minors if minor else campaign.retention_days
    return as_utc(campaign.closes_at) + timedelta(days=days)


def as_utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes: they are UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)

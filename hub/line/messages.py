"""What the two official accounts say (zh-TW, the seed's words where the seed has them), as Messaging API
message objects (plain dicts in the spec's shape: they are stored in the reply outbox as they are)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from hub.models.line import ChannelName

Message = dict[str, Any]

# The seed's greeting (LINE@ 入口, both accounts).
GREETING = (
    "您好！\n\n防疫城市管理期間，僅允許註冊通行碼得進出新北市主要通道！"
    "請各企業依照下方指示進行員工註冊，並列印新北市實聯制通行碼，並攜帶身分證同行："
)


@dataclass(frozen=True)
class Faq:
    key: str
    question: str  # the seed's words; also the quick-reply label (LINE allows 20 characters)
    answer: str


_FAQ_LIST = (
    Faq(
        "venue_code",
        "什麼是企業實聯碼？",
        "企業實聯碼是貼在公司或店家出入口的 QR Code。進出的人用手機相機或 LINE 掃描後完成實聯登記，"
        "系統保存 28 天內的場域通行資料，逾期自動刪除。一個企業可申請多個實聯碼（每個名稱 8 個字以內），"
        "請點選單的「申請企業實聯碼」。",
    ),
    Faq(
        "employee_pass",
        "什麼是員工通行碼？",
        "員工通行碼是企業為員工申請、經系統簽章的 QR Code，管制期間進出新北市主要通道時出示給警察查驗，"
        "並須攜帶身分證以供核對。員工綁定 LINE 後可在選單「出示／下載／列印通行碼」。",
    ),
    Faq(
        "how_to_use",
        "一般企業或警局分別如何使用？",
        "企業：管理者以手機簡訊驗證註冊，建立員工白名單（單筆或 Excel 匯入）並申請通行碼，"
        "員工綁定後即可出示通行碼。\n警局：分局管理者維護執勤名單，執勤警員在「新北市交通管制通行碼查驗系統」"
        "綁定後，以「掃碼核實」查驗通行碼並核對身分證。",
    ),
    Faq(
        "many_passes",
        "我可以申請多個員工通行碼嗎？",
        "每位員工在同一企業只會有一張有效的通行碼；企業可為白名單上的每位員工各申請一張。"
        "若您同時任職於多家企業，各企業可分別為您申請。",
    ),
    Faq(
        "station_apply",
        "申請警局",
        "分局管理員（姓名、手機、身分證）由新北市交通管制通行碼管理系統的總管理者匯入。"
        "分局管理員在本帳號點「註冊 登入」，開啟分局註冊表填寫分局名稱、地址與聯絡資料，"
        "以手機簡訊驗證碼完成註冊；已建立的分局，管理員以「註冊 登入」綁定即可。",
    ),
    Faq(
        "officer_code",
        "我可申請警員碼嗎？",
        "警員不需另外申請：請所屬分局管理員將您的姓名、警員編號與手機加入執勤名單，"
        "再點「註冊 登入」以手機簡訊驗證碼綁定，即可使用「掃碼核實」。",
    ),
    Faq(
        "export",
        "如何匯出通行資訊",
        "分局管理員可在「查詢」查看本分局的查驗紀錄；完整的查驗清冊與企業通行清冊由總管理中心在管理系統"
        "匯出（個人資料均已去識別化，例如 陳*明、09***6***5）。",
    ),
)
FAQ = {faq.key: faq for faq in _FAQ_LIST}
FAQ_BY_QUESTION = {faq.question: faq for faq in _FAQ_LIST}
SUPPORT_QUESTION = "詢問客服"

CHANNEL_FAQ: dict[ChannelName, tuple[str, ...]] = {
    ChannelName.ENTERPRISE: ("venue_code", "employee_pass", "how_to_use", "many_passes"),
    ChannelName.POLICE: ("station_apply", "officer_code", "export"),
}


def postback(label: str, action: str, display: str | None = None, **params: str | int) -> dict[str, Any]:
    """A postback action. Its data names an action and ids only: never personal data (it is echoed back
    by LINE and may be logged by anyone on the way)."""
    return {
        "type": "postback",
        "label": label[:20],
        "data": urlencode({"a": action, **params}),
        "displayText": display or label,
    }


def faq_quick_reply(channel: ChannelName) -> dict[str, Any]:
    items = [
        {"type": "action", "action": postback(FAQ[key].question, "faq", q=key)}
        for key in CHANNEL_FAQ[channel]
    ]
    items.append({"type": "action", "action": postback(SUPPORT_QUESTION, "support")})
    return {"items": items}


def text(body: str, *, quick_reply: dict[str, Any] | None = None) -> Message:
    message: Message = {"type": "text", "text": body[:5000]}
    if quick_reply is not None:
        message["quickReply"] = quick_reply
    return message


def greeting(channel: ChannelName) -> Message:
    return text(GREETING, quick_reply=faq_quick_reply(channel))


def faq_answer(channel: ChannelName, key: str) -> Message:
    return text(FAQ[key].answer, quick_reply=faq_quick_reply(channel))

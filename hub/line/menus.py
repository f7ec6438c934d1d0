"""Rich menus per role (the buttons the city asked for), drawn with Pillow in the CJK font the PDFs use,
created by `checkpass hub line setup-menus`, and linked per user when the role is known.

The labels are the catalogue's `line.menu.*` keys (docs/i18n.md) in the chat's language: LINE links one
menu image per user and tells the hub no language, so the menus speak zh-TW as the chat does.

Each menu's name is `checkpass:<channel>:<key>` (key: `guest` or a role); the hub finds menus by name, so
re-running setup replaces them without configuration. The guest menu is the channel's default: a user
with no linked menu (unbound, or unbound for a lost role) sees it. Buttons are postbacks; what they do
is decided again by `hub.line.actions` for the caller's current role.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from linebot.v3.messaging import ApiException, RichMenuRequest
from PIL import Image, ImageDraw, ImageFont

from hub.core.vocabulary import ChannelName, Role
from hub.line.delivery import Sender, Unreachable, with_retries
from hub.line.words import t

log = logging.getLogger(__name__)

GUEST = "guest"
WIDTH = 2500
ROW_HEIGHT = 843


@dataclass(frozen=True)
class Button:
    label: str  # drawn on the image; a space breaks the line
    action: str  # the postback's `a`

    @property
    def spoken(self) -> str:
        """What the chat shows as the user's message when tapped."""
        return self.label.replace(" ", "")


def _button(label: str, action: str) -> Button:
    """A button labelled with the text of the catalogue key `label`."""
    return Button(t(label), action)


MENUS: dict[tuple[ChannelName, str], tuple[Button, ...]] = {
    (ChannelName.ENTERPRISE, GUEST): (_button("line.menu.register", "register"),),
    (ChannelName.ENTERPRISE, Role.ENTERPRISE_ADMIN.value): (
        _button("line.menu.register", "register"),
        _button("line.menu.venue_apply_enterprise", "venue_apply"),
        _button("line.menu.pass_list", "pass_list"),
        _button("line.menu.pass_download", "pass_download"),
        _button("line.menu.pass_show", "pass_show"),
        _button("line.menu.pass_print", "pass_print"),
    ),
    (ChannelName.ENTERPRISE, Role.EMPLOYEE.value): (
        _button("line.menu.pass_show", "pass_show"),
        _button("line.menu.pass_download", "pass_download"),
        _button("line.menu.pass_print", "pass_print"),
    ),
    (ChannelName.POLICE, GUEST): (
        _button("line.menu.register", "register"),
        _button("line.menu.help", "help"),
    ),
    (ChannelName.POLICE, Role.STATION_ADMIN.value): (
        _button("line.menu.register", "register"),
        _button("line.menu.scan", "scan"),
        _button("line.menu.duty_roster", "duty_roster"),
        _button("line.menu.checks", "checks"),
        _button("line.menu.venue_apply", "venue_apply"),
        _button("line.menu.help", "help"),
    ),
    (ChannelName.POLICE, Role.OFFICER.value): (
        _button("line.menu.register", "register"),
        _button("line.menu.scan", "scan"),
        _button("line.menu.help", "help"),
    ),
}


def menu_name(channel: ChannelName, key: str) -> str:
    return f"checkpass:{channel.value}:{key}"


def _grid(count: int) -> tuple[int, int]:
    """(columns, rows): up to three buttons in one row, up to six in two."""
    return (count, 1) if count <= 3 else (3, 2)


def menu_request(channel: ChannelName, key: str) -> dict[str, object]:
    from hub.line.messages import postback

    buttons = MENUS[(channel, key)]
    columns, rows = _grid(len(buttons))
    width, height = WIDTH // columns, ROW_HEIGHT
    areas = []
    for index, button in enumerate(buttons):
        column, row = index % columns, index // columns
        areas.append(
            {
                "bounds": {"x": column * width, "y": row * height, "width": width, "height": height},
                "action": postback(button.spoken, button.action, button.spoken),
            }
        )
    return {
        "size": {"width": WIDTH, "height": ROW_HEIGHT * rows},
        "selected": True,
        "name": menu_name(channel, key),
        "chatBarText": t("line.menu.bar"),
        "areas": areas,
    }


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from hub.documents.fonts import cjk_font_file

    found = cjk_font_file()
    if found is None:
        log.warning("no CJK font: rich-menu labels will not render")
        return ImageFont.load_default()
    path, index = found
    return ImageFont.truetype(path, size, index=index)


def draw(channel: ChannelName, key: str) -> bytes:
    """The menu image (PNG): one cell per button, the label in two lines at most."""
    buttons = MENUS[(channel, key)]
    columns, rows = _grid(len(buttons))
    size = menu_request(channel, key)["size"]
    assert isinstance(size, dict)
    image = Image.new("RGB", (size["width"], size["height"]), "#0b5394")
    pen = ImageDraw.Draw(image)
    width, height = WIDTH // columns, ROW_HEIGHT
    font = _font(150)
    for index, button in enumerate(buttons):
        column, row = index % columns, index // columns
        box = (column * width + 12, row * height + 12, (column + 1) * width - 12, (row + 1) * height - 12)
        pen.rounded_rectangle(box, radius=40, fill="#ffffff")
        text = "\n".join(button.label.split(" "))
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        pen.multiline_text(centre, text, font=font, fill="#0b5394", anchor="mm", align="center", spacing=30)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


async def setup_menus(sender: Sender, channel: ChannelName) -> dict[str, str]:
    """Replace this channel's menus: create, upload images, guest menu as default. Returns key → id."""
    api, blob = sender.api(channel), sender.blob(channel)
    old = await with_retries(lambda: api.get_rich_menu_list(), "rich menu list")
    made: dict[str, str] = {}
    for (menu_channel, key), _ in MENUS.items():
        if menu_channel is not channel:
            continue
        request = RichMenuRequest.from_dict(menu_request(channel, key))
        created = await with_retries(lambda r=request: api.create_rich_menu(r), "create rich menu")
        image = draw(channel, key)
        await with_retries(
            lambda i=created.rich_menu_id, d=image: blob.set_rich_menu_image(
                i, d, _headers={"Content-Type": "image/png"}
            ),
            "rich menu image",
        )
        made[key] = created.rich_menu_id
    await with_retries(lambda: api.set_default_rich_menu(made[GUEST]), "default rich menu")
    for menu in old.richmenus or []:
        if menu.name.startswith(f"checkpass:{channel.value}:"):
            try:
                await api.delete_rich_menu(menu.rich_menu_id)
            except ApiException as exc:  # already gone: fine
                log.info("old rich menu not deleted (%s)", exc.status)
    return made


class MenuLinker:
    """Shows a user the menu of a role: finds the menu ids by name once, then links per user."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender
        self._ids: dict[ChannelName, dict[str, str]] = {}

    def forget(self, channel: ChannelName) -> None:
        self._ids.pop(channel, None)

    async def _menu_ids(self, channel: ChannelName) -> dict[str, str]:
        if channel not in self._ids:
            listed = await with_retries(
                lambda: self._sender.api(channel).get_rich_menu_list(), "rich menu list"
            )
            prefix = f"checkpass:{channel.value}:"
            self._ids[channel] = {
                m.name[len(prefix) :]: m.rich_menu_id
                for m in listed.richmenus or []
                if m.name.startswith(prefix)
            }
        return self._ids[channel]

    async def show(self, channel: ChannelName, user_id: str, role: str) -> None:
        """Link the role's menu ("" → unlink, so the default guest menu shows). Failures are logged only:
        the menu is a shortcut, every action is checked again anyway."""
        api = self._sender.api(channel)
        try:
            if not role:
                await with_retries(lambda: api.unlink_rich_menu_id_from_user(user_id), "unlink rich menu")
                return
            menu_id = (await self._menu_ids(channel)).get(role)
            if menu_id is None:
                log.warning(
                    "no rich menu for %s/%s: run `checkpass hub line setup-menus`", channel.value, role
                )
                return
            await with_retries(lambda: api.link_rich_menu_id_to_user(user_id, menu_id), "link rich menu")
        except ApiException as exc:
            if exc.status == 404:  # menus replaced since they were looked up
                self.forget(channel)
            log.warning("rich menu not linked (%s)", exc.status)
        except Unreachable:  # LINE not answering: the answer went already; the row must still be marked done
            log.warning("rich menu not linked: LINE did not answer")

"""Helpers shared by the hub tests: constants, the SMS outbox reader, auth headers, the `Hub` driver
and .xlsx upload builders.

They live here, not in conftest.py, because test modules import them by name: several conftest.py
files exist under tests/ and `from conftest import ...` gets whichever pytest loaded last. conftest.py
keeps only fixtures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy.orm import Session

from hub.sms import latest_code, read_messages

PASSPHRASE = "test passphrase for the hub keys"
SECRET = "test-hub-secret-0123456789abcdef"


@dataclass
class SmsOutbox:
    """What the file SMS gateway 'delivered': the tests' stand-in for people's phones."""

    path: Path

    def messages(self, mobile_e164: str | None = None) -> list[dict[str, str]]:
        return [m for m in read_messages(self.path) if mobile_e164 is None or m["to"] == mobile_e164]

    def code(self, mobile_e164: str) -> str:
        found = latest_code(self.path, mobile_e164)
        assert found is not None, f"no code was sent to {mobile_e164}"
        return found

    def initial_password(self, mobile_e164: str) -> str:
        for message in reversed(self.messages(mobile_e164)):
            if "密碼" in message["text"]:
                return message["text"].split("：", 1)[1].split()[0]
        raise AssertionError(f"no initial password was sent to {mobile_e164}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Hub:
    """Shortcuts that drive the hub through its HTTP API, as a user would."""

    client: TestClient
    sms: SmsOutbox
    db: Session

    def request_code(self, mobile: str, purpose: str = "login", venue_code: str | None = None) -> str:
        """A code by SMS, as a front end asks for it (a check-in code names its venue)."""
        body = {"mobile": mobile, "purpose": purpose, **({"venue_code": venue_code} if venue_code else {})}
        response = self.client.post("/api/v1/otp/request", json=body)
        assert response.status_code == 200, response.text
        return self.sms.code(mobile)

    def password_login(self, mobile: str, password: str) -> dict[str, Any]:
        response = self.client.post("/api/v1/auth/login", json={"mobile": mobile, "password": password})
        assert response.status_code == 200, response.text
        return response.json()

    def console_login(self, mobile: str, new_password: str = "N3w-password!") -> str:
        """Log in with the SMS'd initial password, change it, and return a usable token."""
        first = self.password_login(mobile, self.sms.initial_password(mobile))
        assert first["must_change_password"] is True
        changed = self.client.post(
            "/api/v1/auth/password",
            json={"current_password": self.sms.initial_password(mobile), "new_password": new_password},
            headers=bearer(first["token"]),
        )
        assert changed.status_code == 204, changed.text
        return first["token"]

    def sms_login(self, mobile: str, **choose: Any) -> str:
        code = self.request_code(mobile, "login")
        response = self.client.post("/api/v1/auth/sms-login", json={"mobile": mobile, "code": code, **choose})
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def super_admin_token(self, mobile: str = "+886911000001") -> str:
        from hub.services.bootstrap import create_super_admin

        create_super_admin(self.db, mobile, "總管理者")
        self.db.commit()  # services never commit: the test is this command's unit of work
        return self.console_login(mobile)

    def create_general_admin(self, token: str, mobile: str, permissions: list[str]) -> str:
        response = self.client.post(
            "/api/v1/admins",
            json={"mobile": mobile, "name": "一般管理者", "permissions": permissions},
            headers=bearer(token),
        )
        assert response.status_code == 201, response.text
        return self.console_login(mobile)

    def create_station(self, token: str, name: str = "板橋分局") -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/stations",
            json={
                "name": name,
                "address": "新北市板橋區漢生東路21號",
                "contact_name": "王小明",
                "contact_phone": "0229603456",
            },
            headers=bearer(token),
        )
        assert response.status_code == 201, response.text
        return response.json()

    def station_admin_token(self, super_token: str, station_id: int, mobile: str = "+886922000001") -> str:
        response = self.client.post(
            "/api/v1/station-admins",
            json={"name": "林警官", "mobile": mobile, "national_id": "A123456789", "station_id": station_id},
            headers=bearer(super_token),
        )
        assert response.status_code == 201, response.text
        return self.sms_login(mobile, role="station_admin")

    def register_enterprise(
        self, mobile: str = "+886933000001", ubn: str = "28010606", name: str = "艾斯移動股份有限公司"
    ) -> tuple[str, dict[str, Any]]:
        code = self.request_code(mobile, "enterprise_registration")
        response = self.client.post(
            "/api/v1/enterprises/register",
            json={
                "company_name": name,
                "ubn": ubn,
                "admin_name": "曾可愛",
                "admin_mobile": mobile,
                "code": code,
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return body["token"], body["enterprise"]


def officer_session(db: Session, officer_id: int) -> str:
    """A bearer token of the officer account of a roster entry, as the officer's chat login would give
    (the REST API has no officer login of its own: officers log in on a checkpoint device)."""
    from hub.services.identity import issue_token, officer_account

    user = officer_account(db, officer_id)
    token, _ = issue_token(db, user, None)
    db.commit()
    return token


# --- .xlsx uploads for import tests ---

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "list.xlsx") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, data, XLSX)}

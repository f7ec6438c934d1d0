"""SMS gateways: the interface the hub uses to send one-time codes and initial passwords."""

from hub.sms.dev import ConsoleGateway, FileGateway, latest_code, read_messages
from hub.sms.every8d import Every8dGateway
from hub.sms.factory import gateway_from_settings
from hub.sms.gateway import SmsError, SmsGateway, SmsReceipt
from hub.sms.mitake import MitakeGateway

__all__ = [
    "ConsoleGateway",
    "Every8dGateway",
    "FileGateway",
    "MitakeGateway",
    "SmsError",
    "SmsGateway",
    "SmsReceipt",
    "gateway_from_settings",
    "latest_code",
    "read_messages",
]

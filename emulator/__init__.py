"""A local HTTPS emulator of Microsoft Graph (Entra ID Protection, sign-in logs) and the
Microsoft identity platform token endpoint, for tests and demos (SPEC §9)."""

from emulator.app import Emulator

__all__ = ["Emulator"]

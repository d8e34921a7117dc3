"""A tenant's synthetic directory: its users, derived from the seed."""

from __future__ import annotations

from dataclasses import dataclass

from emulator import catalog, seeds

TENANT_NAMES = ("contoso", "fabrikam", "adatum", "northwind", "tailspin", "wingtip", "litware",
                "proseware")


@dataclass(frozen=True)
class User:
    index: int
    id: str
    upn: str
    display_name: str
    home_city: int
    device: int
    is_guest: bool
    device_id: str
    device_name: str
    phone_id: str


def admin_id(key: int) -> str:
    """The tenant admin's id (who acted on seeded records: history's initiatedBy)."""
    return seeds.guid_for(key, 0, 330)


def tenant_domain(index: int) -> str:
    name = TENANT_NAMES[index % len(TENANT_NAMES)]
    suffix = "" if index < len(TENANT_NAMES) else str(index // len(TENANT_NAMES))
    return f"{name}{suffix}.onmicrosoft.com"


def build_users(key: int, count: int, domain: str) -> list[User]:
    """`count` users; user 0 is always an O'Brien so that apostrophes are exercised."""
    users: list[User] = []
    seen: set[str] = set()
    for i in range(count):
        if i == 0:
            first, last = 3, 3  # Siobhán O'Brien
        else:
            first = seeds.h(key, i, 1) % len(catalog.FIRST_NAMES)
            last = seeds.h(key, i, 2) % len(catalog.LAST_NAMES)
        guest = i % 29 == 7
        local = f"{catalog.FIRST_ASCII[first]}.{catalog.LAST_ASCII[last]}"
        candidate = local
        n = 1
        while candidate in seen:
            n += 1
            candidate = f"{local}{n}"
        seen.add(candidate)
        upn = f"{candidate}_partner.example#EXT#@{domain}" if guest else f"{candidate}@{domain}"
        name = f"{catalog.FIRST_NAMES[first]} {catalog.LAST_NAMES[last]}"
        if last in (22, 23):  # CJK: family name first, no space
            name = f"{catalog.LAST_NAMES[last]}{catalog.FIRST_NAMES[first]}"
        users.append(
            User(
                index=i,
                id=seeds.guid_for(key, i, 3),
                upn=upn,
                display_name=name,
                home_city=seeds.h(key, i, 4) % len(catalog.CITIES),
                device=seeds.h(key, i, 5) % len(catalog.DEVICES),
                is_guest=guest,
                device_id=seeds.guid_for(key, i, 6),
                device_name=f"DESKTOP-{seeds.h(key, i, 7) & 0xFFFFFF:06X}",
                phone_id=seeds.guid_for(key, i, 8),
            )
        )
    return users

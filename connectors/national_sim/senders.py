"""Senders of petitions (người gửi) with the fields each category really carries.

Coherence is the point: an individual has a 12-digit citizen id, a business a tax code and a name, a
deputy a delegation, voters an area. The gateway masks, routes and validates by these fields, so a
simulator that mixes them up would test nothing.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from connectors.national_sim import vietnamese as vn


@dataclass(frozen=True)
class Place:
    """Where the sender lives or works: the province, the ward and the address line."""

    province: vn.Province
    ward: vn.Ward
    line: str

    def address(self) -> dict[str, Any]:
        return {"Line": self.line, "WardCode": self.ward.code, "ProvinceCode": self.province.code}


@dataclass(frozen=True)
class Sender:
    """The zeep-ready `Sender` dict, plus what the petition text refers to."""

    fields: dict[str, Any]
    place: Place
    organisation: str | None


def random_place(rng: random.Random) -> Place:
    province = rng.choice(vn.PROVINCES)
    ward = rng.choice(province.wards)
    where = f"{ward.name}, {province.full_name}"
    if ward.name.startswith("xã"):
        hamlet = rng.choice(("Đông", "Tây", "Trung", "Thượng", "Hạ", "Bắc", "Nam"))
        line = f"Thôn {hamlet} {rng.randint(1, 9)}, {where}"
    elif rng.random() < 0.4:
        line = f"Số {rng.randint(1, 200)}, ngõ {rng.randint(2, 150)}, {rng.choice(province.streets)}, {where}"
    else:
        line = f"Số {rng.randint(1, 500)} {rng.choice(province.streets)}, {where}"
    return Place(province, ward, line)


def person_name(rng: random.Random) -> tuple[str, bool]:
    """A full name (họ, tên đệm, tên) and whether it is a woman's."""
    female = rng.random() < 0.5
    middle = vn.MIDDLE_NAMES_FEMALE if female else vn.MIDDLE_NAMES_MALE
    given = vn.GIVEN_NAMES_FEMALE if female else vn.GIVEN_NAMES_MALE
    return f"{rng.choice(vn.SURNAMES)} {rng.choice(middle)} {rng.choice(given)}", female


def company_name(rng: random.Random) -> str:
    return f"{rng.choice(vn.COMPANY_FORMS)} {rng.choice(vn.COMPANY_TRADES)} {rng.choice(vn.COMPANY_NAMES)}"


def make_sender(rng: random.Random, category: str) -> Sender:
    place = random_place(rng)
    name, female = person_name(rng)
    if category == "CA_NHAN":
        return _individual(rng, name, female, place)
    if category == "DOANH_NGHIEP":
        return _business(rng, name, place)
    if category == "TO_CHUC":
        return _organisation(rng, name, place)
    if category == "CU_TRI":
        return _voters(place)
    if category == "DAI_BIEU":
        return _deputy(rng, name, place)
    raise ValueError(f"unknown sender category {category!r}")


def _individual(rng: random.Random, name: str, female: bool, place: Place) -> Sender:
    fields: dict[str, Any] = {"Type": "CA_NHAN", "FullName": name, "IdNumber": citizen_id(rng, place, female)}
    if rng.random() < 0.9:
        fields["Phone"] = phone(rng)
    if rng.random() < 0.5:
        fields["Email"] = f"{ascii_slug(name, sep='')}{rng.randint(60, 99)}@{rng.choice(vn.EMAIL_DOMAINS)}"
    if rng.random() < 0.95:
        fields["Address"] = place.address()
    return Sender(fields, place, None)


def _business(rng: random.Random, representative: str, place: Place) -> Sender:
    company = company_name(rng)
    domain = ascii_slug(" ".join(company.split()[-2:]), sep="")  # the brand: "Việt Tiến" -> viettien
    fields = {
        "Type": "DOANH_NGHIEP",
        "FullName": representative,
        "TaxCode": tax_code(rng, place),
        "OrganizationName": company,
        "Phone": phone(rng),
        "Email": f"{rng.choice(('nhansu', 'lienhe', 'info', 'ketoan'))}@{domain}.com.vn",
        "Address": place.address(),
    }
    return Sender(fields, place, company)


def _organisation(rng: random.Random, contact: str, place: Place) -> Sender:
    organisation = rng.choice(vn.ORGANISATION_PATTERNS).format(
        ward=place.ward.name, company=company_name(rng), province=place.province.name
    )
    organisation = organisation[0].upper() + organisation[1:]
    fields: dict[str, Any] = {
        "Type": "TO_CHUC",
        "FullName": contact,
        "OrganizationName": organisation,
        "Phone": phone(rng),
        "Address": place.address(),
    }
    return Sender(fields, place, organisation)


def _voters(place: Place) -> Sender:
    """Voters' petitions reach the portal compiled by the province's National Assembly delegation."""
    delegation = f"Đoàn đại biểu Quốc hội {place.province.full_name}"
    area = f"{place.ward.name}, {place.province.full_name}"
    fields = {
        "Type": "CU_TRI",
        "FullName": f"Cử tri {area}",
        "OrganizationName": delegation,
        "Address": {"Line": area, "WardCode": place.ward.code, "ProvinceCode": place.province.code},
    }
    return Sender(fields, place, delegation)


def _deputy(rng: random.Random, name: str, place: Place) -> Sender:
    delegation = f"Đoàn đại biểu Quốc hội {place.province.full_name}"
    office = f"Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân {place.province.full_name}"
    fields = {
        "Type": "DAI_BIEU",
        "FullName": name,
        "OrganizationName": delegation,
        "Email": f"{ascii_slug(name, sep='.')}@quochoi.vn",
        "Phone": phone(rng),
        "Address": {"Line": office, "ProvinceCode": place.province.code},
    }
    return Sender(fields, place, f"{rng.choice(vn.DEPUTY_POSITIONS)}, {delegation}")


def citizen_id(rng: random.Random, place: Place, female: bool) -> str:
    """CCCD layout: province of registration (3), century and sex (1), year of birth (2), then 6 digits."""
    born = rng.randint(1950, 2006)
    century_sex = (0 if born < 2000 else 2) + (1 if female else 0)
    province = vn.CITIZEN_ID_PROVINCE[place.province.code]
    return f"{province}{century_sex}{born % 100:02d}{rng.randrange(10**6):06d}"


def tax_code(rng: random.Random, place: Place) -> str:
    prefix = vn.TAX_CODE_PREFIX.get(place.province.code, place.province.code)
    code = f"{prefix}{rng.randrange(10**8):08d}"
    return f"{code}-{rng.randint(1, 20):03d}" if rng.random() < 0.15 else code


def phone(rng: random.Random) -> str:
    number = f"{rng.choice(vn.MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"
    style = rng.random()
    if style < 0.6:
        return number
    if style < 0.8:
        return f"{number[:4]} {number[4:7]} {number[7:]}"
    return f"+84 {number[1:4]} {number[4:7]} {number[7:]}"


def ascii_slug(text: str, *, sep: str) -> str:
    """Vietnamese text without diacritics, lower case (đ becomes d), words joined by `sep`."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = ["".join(ch for ch in word if ch.isascii() and ch.isalnum()) for word in plain.lower().split()]
    return sep.join(word for word in words if word)

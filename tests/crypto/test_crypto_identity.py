import pytest

from crypto.identity import (
    NationalIdProblem,
    is_valid_national_id,
    is_valid_ubn,
    mask_mobile,
    mask_name,
    mask_national_id,
    national_id_problem,
)


@pytest.mark.parametrize("nid", ["A123456789", "F131104093", "A800000014", "B900000017"])
def test_valid_national_ids(nid):
    assert is_valid_national_id(nid)


@pytest.mark.parametrize(
    "nid",
    [
        "A123456788",  # checksum
        "A323456789",  # second digit must be 1/2 (ID) or 8/9 (2021 resident certificate)
        "a123456789",  # validators do not normalise; callers do
        "A12345678",
        "1234567890",
        "",
        "AC01234567",  # old resident certificate unless allowed
    ],
)
def test_invalid_national_ids(nid):
    assert not is_valid_national_id(nid)


def test_old_resident_certificate_only_when_allowed():
    # Old form: second letter counts with the last digit of its area code (C=12 -> 2).
    valid_old = next(
        f"AC0123456{d}"
        for d in "0123456789"
        if is_valid_national_id(f"AC0123456{d}", allow_old_resident=True)
    )
    assert not is_valid_national_id(valid_old)
    assert sum(is_valid_national_id(f"AC0123456{d}", allow_old_resident=True) for d in "0123456789") == 1


def test_every_letter_has_exactly_one_check_digit():
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        assert sum(is_valid_national_id(f"{letter}12345678{d}") for d in "0123456789") == 1


@pytest.mark.parametrize("ubn", ["04595257", "10458575", "12345675", "22099131"])
def test_valid_ubn(ubn):
    assert is_valid_ubn(ubn)


@pytest.mark.parametrize("ubn", ["12345678", "04595258", "1234567", "abcdefgh", ""])
def test_invalid_ubn(ubn):
    assert not is_valid_ubn(ubn)


WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)


def test_ubn_mod5_rule_accepts_numbers_the_old_mod10_rule_refused():
    # 2023 rule: sum % 5 == 0. Find a number valid under mod 5 but not mod 10.
    def digit_sum_total(s):
        return sum(p // 10 + p % 10 for p in (int(c) * w for c, w in zip(s, WEIGHTS, strict=True)))

    new_only = next(
        f"{n:08d}"
        for n in range(10_000_000, 10_001_000)
        if digit_sum_total(f"{n:08d}") % 10 == 5 and f"{n:08d}"[6] != "7"
    )
    assert is_valid_ubn(new_only)


def test_ubn_seventh_digit_seven_special_case():
    # 12345675: digit sums total 39; with the 7th digit 7, 28 -> 10 may count as 1 -> 40.
    assert is_valid_ubn("12345675")
    assert not is_valid_ubn("12345673")  # 37 or 38: invalid either way
    assert not is_valid_ubn("12345674")


@pytest.mark.parametrize(
    ("name", "masked"),
    [("陳大明", "陳*明"), ("王明", "王*"), ("歐陽大明", "歐**明"), ("李", "*"), (" 陳大明 ", "陳*明")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_national_id_seed_pattern():
    # The required example output (docs/requirements.md, 3) A12*5*6*9* keeps characters 0, 1, 2, 4, 6, 8.
    assert mask_national_id("A123557899") == "A12*5*7*9*"
    assert mask_national_id("A123456789") == "A12*4*6*8*"
    assert mask_national_id("a123456789") == "A12*4*6*8*"


@pytest.mark.parametrize(
    ("mobile", "masked"),
    [
        ("0912365475", "09***6***5"),
        ("0912345678", "09***4***8"),
        ("+886912345678", "09***4***8"),
        ("0912-345-678", "09***4***8"),
        ("12345", "12**5"),
    ],
)
def test_mask_mobile(mobile, masked):
    assert mask_mobile(mobile) == masked


@pytest.mark.parametrize(
    ("nid", "problem"),
    [
        ("A123456789", None),
        ("A800000014", None),
        ("A12345678", NationalIdProblem.LENGTH),
        ("A1234567890", NationalIdProblem.LENGTH),
        ("", NationalIdProblem.LENGTH),
        ("A323456789", NationalIdProblem.FORMAT),
        ("1123456789", NationalIdProblem.FORMAT),
        ("AB23456789", NationalIdProblem.FORMAT),  # an old resident form, not allowed here
        ("A123456788", NationalIdProblem.CHECKSUM),
    ],
)
def test_a_refused_national_id_says_which_check_failed(nid, problem):
    assert national_id_problem(nid) == problem
    assert is_valid_national_id(nid) == (problem is None)
    if problem is not None:
        assert problem.value in problem.explain()  # "length check failed", "format check ...", "checksum ..."


def test_old_resident_form_is_checked_for_its_checksum_when_allowed():
    problems = [national_id_problem(f"AC0123456{d}", allow_old_resident=True) for d in "0123456789"]
    assert problems.count(None) == 1
    assert problems.count(NationalIdProblem.CHECKSUM) == 9
    assert national_id_problem("A323456789", allow_old_resident=True) == NationalIdProblem.FORMAT


@pytest.mark.parametrize("nid", ["AC01234567", "FA12345689"])
def test_old_resident_certificate_check_digit_worked_by_hand(nid):
    # FA12345689: F=15 -> 1 + 5*9 = 46; A=10 counts as 0; 0*8 + 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 6*2 + 8*1
    # = 85; 46 + 85 + 9 = 140, a multiple of 10. The first letter is the area, the second only its digit.
    assert is_valid_national_id(nid, allow_old_resident=True)
    typo = nid[:-1] + str((int(nid[-1]) + 1) % 10)
    assert national_id_problem(typo, allow_old_resident=True) == NationalIdProblem.CHECKSUM


@pytest.mark.parametrize("nothing", ["", "   ", None, 1234])
def test_masks_of_no_name_or_no_number_print_and_leak_nothing(nothing):
    # A mask is printed in error messages for any input: it never raises and never invents characters.
    assert mask_name(nothing) == "*"
    assert mask_national_id(nothing) == ""
    assert mask_mobile(nothing) == ""


@pytest.mark.parametrize(
    ("mobile", "masked"),
    [
        ("886912345678", "09***4***8"),  # the country code without its +
        ("88612345", "88*****5"),  # starts like one, but too short to be a mobile with it
        ("123456789012", "12*********2"),  # twelve digits without 886 are not a Taiwanese mobile
        ("123", "***"),  # too short to keep anything
        ("1234", "12*4"),
    ],
)
def test_mask_mobile_of_other_shapes(mobile, masked):
    assert mask_mobile(mobile) == masked

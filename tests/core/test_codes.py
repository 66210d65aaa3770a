import itertools

from app.core.security import (
    SHORT_ALPHABET,
    format_short_code,
    new_claim_token,
    new_short_code,
    normalize_short_code,
    parse_scanned_code,
)


def test_tokens_are_long_random_and_unique():
    tokens = {new_claim_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) == 22 for t in tokens)  # 16 random bytes = 128 bits


def test_short_code_shape_and_check_character():
    for _ in range(500):
        code = new_short_code()
        assert len(code) == 10 and set(code) <= set(SHORT_ALPHABET)
        assert normalize_short_code(code) == code
        assert normalize_short_code(format_short_code(code).lower()) == code
    assert not set("01OIV") & set(SHORT_ALPHABET) and len(SHORT_ALPHABET) == 31


def test_every_single_character_change_is_caught():
    code = new_short_code()
    for i, ch in itertools.product(range(10), SHORT_ALPHABET):
        if ch != code[i]:
            assert normalize_short_code(code[:i] + ch + code[i + 1 :]) is None


def test_every_swap_of_two_characters_is_caught():
    for _ in range(200):
        code = new_short_code()
        for i, j in itertools.combinations(range(10), 2):
            if code[i] != code[j]:
                swapped = list(code)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                assert normalize_short_code("".join(swapped)) is None


def test_parse_scanned_code():
    t = new_claim_token()
    assert parse_scanned_code(t) == ("token", t)
    assert parse_scanned_code(f"https://kits.example.org/c/{t}") == ("token", t)
    s = new_short_code()
    assert parse_scanned_code(format_short_code(s)) == ("short", s)
    assert parse_scanned_code("hello") is None
    assert parse_scanned_code(t[:-1]) is None

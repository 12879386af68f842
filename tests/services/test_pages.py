"""One way to page (AIP-158) for every List method: sizes, tokens bound to their filters, no readable filters."""

from __future__ import annotations

import base64

import pytest

from bekal.services.errors import ServiceError
from bekal.services.pages import DEFAULT_PAGE, MAX_PAGE, page_position, page_size, page_token


def test_sizes():
    assert page_size(0) == DEFAULT_PAGE and page_size(7) == 7 and page_size(10**9) == MAX_PAGE
    with pytest.raises(ServiceError) as err:
        page_size(-1)
    assert err.value.violations == [("page_size", "must not be negative")]


def test_a_token_comes_back_to_its_position_with_the_same_filters_only():
    token = page_token(["2019-06-01", "req-7"], ["CLIENT-0042", None])
    assert page_position(token, ["CLIENT-0042", None]) == ["2019-06-01", "req-7"]
    assert page_position("", ["CLIENT-0042", None]) is None  # the first page
    for other in (["CLIENT-0043", None], [None, None], ["CLIENT-0042"]):
        with pytest.raises(ServiceError) as err:
            page_position(token, other)
        assert err.value.code == "INVALID_ARGUMENT" and err.value.violations[0][0] == "page_token"


@pytest.mark.parametrize("token", ["x", "!!!", base64.urlsafe_b64encode(b'{"p": 1}').decode(), "e30"])
def test_a_token_we_did_not_make_is_refused(token: str):
    with pytest.raises(ServiceError) as err:
        page_position(token, [])
    assert err.value.violations == [("page_token", "not a page token this server gave out")]


def test_a_token_does_not_carry_a_filter_in_readable_form():
    token = page_token(17, ["CLIENT-0042"])
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"CLIENT-0042" not in raw

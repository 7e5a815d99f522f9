"""The quote status table and who may take each action."""

import pytest

import chat_service.quotes.states as module
from chat_service.quotes.errors import IllegalQuoteAction
from chat_service.quotes.states import (
    ACTIONS,
    ALLOWED,
    SIDES,
    TERMINAL,
    QuoteAction,
    QuoteStatus,
    check_action,
)

S = QuoteStatus
A = QuoteAction


def test_table_shape() -> None:
    assert set(ACTIONS) == set(QuoteStatus)
    assert set(SIDES) == set(QuoteAction)
    assert {S.DECLINED, S.WITHDRAWN, S.EXPIRED, S.CONVERTED} == TERMINAL
    assert ALLOWED[S.ACCEPTED] == {S.CONVERTED}
    assert SIDES[A.RESPOND] == {"seller"}
    assert SIDES[A.ACCEPT] == {"buyer"}
    assert SIDES[A.WITHDRAW] == {"buyer"}
    assert SIDES[A.COUNTER] == SIDES[A.DECLINE] == {"buyer", "seller"}
    assert not SIDES[A.CONVERT]
    assert not SIDES[A.EXPIRE]


def test_docstring_table_matches_actions() -> None:
    doc = module.__doc__ or ""
    header = next(row for row in doc.splitlines() if row.strip().startswith("status \\"))
    columns = header.split()[3:]
    assert columns == [action.value for action in QuoteAction]
    for status in (S.REQUESTED, S.RESPONDED, S.COUNTERED, S.ACCEPTED):
        row = next(r for r in doc.splitlines() if r.strip().startswith(status.value + " "))
        cells = [cell.rstrip("*") for cell in row.split()[1:]]
        expected = [ACTIONS[status].get(action, "-") for action in QuoteAction]
        assert cells == [str(cell) for cell in expected]


def test_every_status_is_reachable() -> None:
    seen = {S.REQUESTED}
    frontier = [S.REQUESTED]
    while frontier:
        for target in ALLOWED[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(QuoteStatus)


@pytest.mark.parametrize("status", sorted(TERMINAL))
@pytest.mark.parametrize("action", list(QuoteAction))
def test_terminal_statuses_refuse_everything(status: QuoteStatus, action: QuoteAction) -> None:
    with pytest.raises(IllegalQuoteAction) as info:
        check_action(status, action)
    assert "final" in info.value.detail
    assert info.value.quote_status == status.value
    assert info.value.status == 409


def test_messages_list_what_is_possible() -> None:
    with pytest.raises(IllegalQuoteAction) as info:
        check_action(S.REQUESTED, A.ACCEPT)
    assert "possible now: decline, respond, withdraw" in info.value.detail
    assert "expire" not in info.value.detail

"""Every message of the sources has a Chinese translation: present, not empty, not fuzzy, with
the msgid's placeholders. The messages are extracted in-process as `make extract-messages`
does (babel.cfg, keywords `_` and `N_` besides Babel's own)."""

from __future__ import annotations

from tests.i18n.support import catalog_problems, extract, read_catalog


def test_every_source_message_is_translated_into_chinese() -> None:
    messages = extract()
    assert len(messages) > 500, f"extraction found only {len(messages)} messages"
    problems = catalog_problems(messages, read_catalog())
    assert not problems, (
        f"{len(problems)} messages without a usable Chinese translation in "
        "app/i18n/zh_CN (run `make update-messages`, then translate):\n" + "\n".join(problems)
    )

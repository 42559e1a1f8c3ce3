"""Word-level differences between two revisions of a post, for trainee and coach."""

import difflib
import re
from typing import Literal

Op = Literal["same", "added", "removed"]

# Words, runs of white space and single punctuation marks: a changed comma shows as a
# changed comma, not as a changed word.
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def word_diff(old: str, new: str) -> list[tuple[Op, str]]:
    """The new text as runs of unchanged, added and removed words, in reading order."""
    before, after = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    runs: list[tuple[Op, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("removed", "".join(before[i1:i2])))
        if j2 > j1:
            runs.append(("added", "".join(after[j1:j2])))
    return runs

import pytest

from connectors.db.key_lists import LONGEST, key_chunks

pytestmark = pytest.mark.unit


def test_lists_are_padded_to_a_power_of_two_with_their_last_key() -> None:
    assert list(key_chunks(["b"])) == [["b"]]
    assert list(key_chunks(["b", "a", "c"])) == [["b", "a", "c", "c"]]
    assert list(key_chunks(["a", "b", "a", "c", "b"])) == [["a", "b", "c", "c"]]  # repeats dropped first
    assert list(key_chunks([])) == []


def test_long_lists_go_in_chunks_of_few_lengths() -> None:
    keys = [f"k{n:04d}" for n in range(LONGEST + 100)]
    chunks = list(key_chunks(keys))
    assert [len(c) for c in chunks] == [LONGEST, 128]
    assert [k for c in chunks for k in dict.fromkeys(c)] == keys  # every key once, in order
    lengths = {len(c) for n in range(1, 1200) for c in key_chunks([str(i) for i in range(n)])}
    assert lengths == {1 << p for p in range(10)}  # 1, 2, 4 … 512: ten statements at most

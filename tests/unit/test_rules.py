"""Business rules on input: names, content types, checksums, sizes, share lifetimes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from filestore.domain.errors import InvalidInput, TooLarge
from filestore.domain.rules import (
    MAX_PARTS,
    MIN_PART_SIZE,
    GiB,
    MiB,
    TiB,
    UploadPolicy,
    check_share_lifetime,
    normalize_name,
    normalize_sha256,
    part_count_for,
    part_size_for,
)


class TestNames:
    def test_plain_names_are_kept(self) -> None:
        assert normalize_name("report.pdf") == "report.pdf"

    def test_unicode_is_kept_and_nfc_normalised(self) -> None:
        decomposed = "re\u0301sume\u0301 名前 😀.txt"
        assert normalize_name(decomposed) == "résumé 名前 😀.txt"

    def test_surrounding_white_space_is_removed(self) -> None:
        assert normalize_name("  notes.txt \t") == "notes.txt"

    @pytest.mark.parametrize("name", ["", "   ", "\t"])
    def test_empty_names_are_refused(self, name: str) -> None:
        with pytest.raises(InvalidInput, match="empty"):
            normalize_name(name)

    def test_255_characters_are_accepted_and_256_are_not(self) -> None:
        assert len(normalize_name("😀" * 255)) == 255
        with pytest.raises(InvalidInput, match="255"):
            normalize_name("a" * 256)

    def test_length_counts_after_normalisation(self) -> None:
        # 255 "é" written as e + combining accent are 510 code points before NFC
        assert normalize_name("e\u0301" * 255) == "é" * 255

    @pytest.mark.parametrize("name", ["a/b", "../etc/passwd", "a\\b", "/"])
    def test_path_separators_are_refused(self, name: str) -> None:
        with pytest.raises(InvalidInput, match="must not contain"):
            normalize_name(name)

    @pytest.mark.parametrize("name", [".", ".."])
    def test_dot_names_are_refused(self, name: str) -> None:
        with pytest.raises(InvalidInput):
            normalize_name(name)

    @pytest.mark.parametrize(
        "name",
        ["a\x00b", "line\nbreak", "tab\tinside", "bell\x07", "del\x7f", "a\u2028b", "txt\u202eexe"],
    )
    def test_control_characters_are_refused(self, name: str) -> None:
        with pytest.raises(InvalidInput, match="control character"):
            normalize_name(name)

    @pytest.mark.parametrize(
        "char",
        [
            "\u061c",  # Arabic letter mark
            "\u200b",  # zero-width space
            "\ufeff",  # byte-order mark (zero-width no-break space)
            "\u00ad",  # soft hyphen
            "\u2060",  # word joiner
            "\u2062",  # invisible times
            "\U000e0041",  # tag letter A
            "\U000e007f",  # cancel tag
            "\u200e",  # left-to-right mark
            "\u3164",  # Hangul filler
        ],
    )
    def test_invisible_characters_are_refused_anywhere(self, char: str) -> None:
        for name in (f"a{char}b.txt", f"{char}a.txt", f"a.txt{char}"):
            with pytest.raises(InvalidInput, match=f"invisible .*U\\+{ord(char):04X}"):
                normalize_name(name)

    @pytest.mark.parametrize(
        "name",
        [
            "\U0001f469\u200d\U0001f4bb.txt",  # woman technologist: an emoji sequence
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt",  # Persian, with a ZWNJ
        ],
    )
    def test_joiners_that_writing_needs_are_kept(self, name: str) -> None:
        assert normalize_name(name) == name

    @pytest.mark.parametrize("name", ["\u200dname.txt", "name.txt\u200c", "a\u200d\u200db"])
    def test_joiners_not_between_two_visible_characters_are_refused(self, name: str) -> None:
        with pytest.raises(InvalidInput, match="invisible"):
            normalize_name(name)


class TestChecksums:
    def test_hex_is_lower_cased(self) -> None:
        assert normalize_sha256("AB" * 32) == "ab" * 32

    def test_none_means_not_declared(self) -> None:
        assert normalize_sha256(None) is None

    @pytest.mark.parametrize("value", ["", "ab" * 31, "zz" * 32, "ab" * 33, "q0hFTExP"])
    def test_anything_else_is_refused(self, value: str) -> None:
        with pytest.raises(InvalidInput, match="64 hexadecimal"):
            normalize_sha256(value)


class TestContentTypes:
    def test_any_type_is_accepted_by_default_and_normalised(self) -> None:
        policy = UploadPolicy()
        assert policy.normalize_content_type("Image/PNG") == "image/png"
        assert (
            policy.normalize_content_type("text/plain; charset=utf-8")
            == "text/plain; charset=utf-8"
        )

    @pytest.mark.parametrize(
        "value", ["", "png", "image/", "/png", "image/png/x", "a b/c", "x/y\r\nX-Evil: 1"]
    )
    def test_malformed_types_are_refused(self, value: str) -> None:
        with pytest.raises(InvalidInput, match="type/subtype"):
            UploadPolicy().normalize_content_type(value)

    def test_allow_list_with_exact_and_wildcard_entries(self) -> None:
        policy = UploadPolicy(allowed_content_types=frozenset({"application/pdf", "image/*"}))
        assert policy.normalize_content_type("application/pdf") == "application/pdf"
        assert policy.normalize_content_type("image/jpeg") == "image/jpeg"
        with pytest.raises(InvalidInput, match="not accepted"):
            policy.normalize_content_type("text/html")

    def test_bad_allow_list_entries_are_a_configuration_error(self) -> None:
        with pytest.raises(ValueError, match="allowed content type"):
            UploadPolicy(allowed_content_types=frozenset({"pdf"}))


class TestSizes:
    def test_negative_sizes_are_invalid(self) -> None:
        with pytest.raises(InvalidInput):
            UploadPolicy().check_size(-1)

    def test_empty_files_are_fine(self) -> None:
        UploadPolicy().check_size(0)

    def test_over_the_largest_upload_is_too_large(self) -> None:
        policy = UploadPolicy(max_upload_size=GiB)
        policy.check_size(GiB)
        with pytest.raises(TooLarge, match="largest upload"):
            policy.check_size(GiB + 1)

    def test_multipart_above_the_threshold(self) -> None:
        policy = UploadPolicy(multipart_threshold=100 * MiB)
        assert not policy.is_multipart(100 * MiB)
        assert policy.is_multipart(100 * MiB + 1)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"multipart_threshold": 0},
            {"multipart_threshold": 6 * GiB, "single_request_limit": 6 * GiB},
            {"multipart_threshold": 2 * GiB, "single_request_limit": GiB},
            {"max_upload_size": 6 * TiB},
            {"upload_url_ttl": timedelta(minutes=16)},
        ],
    )
    def test_impossible_limits_are_a_configuration_error(self, kwargs: dict[str, object]) -> None:
        with pytest.raises(ValueError, match=r"must be|need 0"):
            UploadPolicy(**kwargs)  # type: ignore[arg-type]

    @pytest.mark.parametrize("size", [100 * MiB + 1, GiB, 100 * GiB, 5 * TiB])
    def test_any_size_up_to_5_tib_fits_in_10000_parts_of_at_least_8_mib(self, size: int) -> None:
        part_size = part_size_for(size)
        assert part_size >= MIN_PART_SIZE
        assert part_size % MiB == 0
        assert part_count_for(size, part_size) <= MAX_PARTS
        assert part_count_for(size, part_size) * part_size >= size


class TestShareLifetimes:
    @pytest.mark.parametrize("seconds", [1, 3600, 7 * 24 * 3600])
    def test_from_one_second_to_seven_days(self, seconds: int) -> None:
        assert check_share_lifetime(seconds) == timedelta(seconds=seconds)

    @pytest.mark.parametrize("seconds", [0, -5, 7 * 24 * 3600 + 1, 10**20, -(10**20)])
    def test_outside_is_refused(self, seconds: int) -> None:
        with pytest.raises(InvalidInput, match="between 1 second and 7 days"):
            check_share_lifetime(seconds)

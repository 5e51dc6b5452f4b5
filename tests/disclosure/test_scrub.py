"""Free-text scrubbing, pattern by pattern, and the recogniser plug-in."""

import polars as pl

from indexer.disclosure import DisclosureConfig, anonymise
from indexer.disclosure.scrub import scrub_columns
from schema.roles import ColumnRole, ColumnSpec


def scrub(text, names=(), **kw):
    df = pl.DataFrame({"t": [text]})
    out, counts = scrub_columns(df, ["t"], {"NAME": list(names)}, **kw)
    return out["t"][0], counts


def test_phones_in_nepali_and_international_formats_become_placeholders():
    for text in (
        "call 9841234567",
        "call +977-9841234567",
        "call 01-4412345",
        "call +44 20 7946 0958",
        "फोन ९८४१२३४५६७",
    ):
        out, counts = scrub(text, regions=("NP", "GB"))
        assert "[PHONE]" in out, (text, out)
        assert not any(ch.isdigit() for ch in out.replace("[PHONE]", "")), out


def test_emails_urls_ids_dates_and_gps_are_typed():
    out, counts = scrub(
        "mail a.b@x.org, see https://x.org/a, card 27-01-72-05432, born 1990-03-12, at 27.717245, 85.323961"
    )
    assert out == "mail [EMAIL], see [URL], card [ID], born [DATE], at [GPS]"
    assert counts == {"EMAIL": 1, "URL": 1, "ID": 1, "DATE": 1, "GPS": 1}


def test_names_from_identifier_columns_are_scrubbed_whole_and_in_parts_case_insensitively():
    out, _ = scrub(
        "SITA said Tamang didi helped; Sitaram was not there", names=["Sita Kumari Tamang"]
    )
    assert out == "[NAME] said [NAME] didi helped; Sitaram was not there"


def test_an_email_made_of_a_respondents_name_is_one_email_placeholder():
    out, counts = scrub(
        "write to sita.tamang@gmail.com or Sita@mail.np; Sita knows",
        names=["Sita Kumari Tamang"],
    )
    assert out == "write to [EMAIL] or [EMAIL]; [NAME] knows"
    assert counts == {"EMAIL": 2, "NAME": 1}


def test_devanagari_names_are_word_bounded():
    out, _ = scrub("सीता तामाङले भनिन्। सीताराम आएनन्।", names=["सीता तामाङ"])
    assert out.startswith("[NAME] ")
    assert "सीताराम" in out


class FakeRecogniser:
    def find(self, text):
        i = text.find("Kathmandu Hospital")
        if i >= 0:
            yield i, i + len("Kathmandu Hospital"), "NAME"


def test_a_recogniser_plugs_in_behind_the_same_interface():
    df = pl.DataFrame(
        {"story": ["She went to Kathmandu Hospital alone."] * 3, "sex": ["female"] * 3}
    )
    roles = {
        "story": ColumnSpec("story", ColumnRole.FREE_TEXT),
        "sex": ColumnSpec("sex", ColumnRole.OTHER),
    }
    out = anonymise(df, roles, config=DisclosureConfig(recogniser=FakeRecogniser()))
    assert out.records["story"][0] == "She went to [NAME] alone."


def test_free_text_column_that_is_mostly_phone_numbers_is_dropped_not_scrubbed():
    df = pl.DataFrame(
        {"remarks": [f"98{i:08d}" for i in range(30)], "sex": ["female", "male"] * 15}
    )
    roles = {
        "remarks": ColumnSpec("remarks", ColumnRole.FREE_TEXT),
        "sex": ColumnSpec("sex", ColumnRole.DIMENSION, "sex"),
    }
    out = anonymise(df, roles)
    assert "remarks" not in out.records.columns
    assert out.report.dropped[0].kind == "phone"
    assert out.report.dropped[0].evidence == "values"


def test_dates_of_birth_in_words_and_years_of_birth_become_date_placeholders():
    cases = {
        "born on 12 March 1990 in the ward": "born on [DATE] in the ward",
        "DOB: March 12, 1990": "DOB: [DATE]",
        "born in 1990, she left": "born in [DATE], she left",
        "जन्म मिति २०४७/०३/१२": "जन्म मिति [DATE]",
        "जन्म २०४७ साल": "जन्म [DATE] साल",
        "12th of Magh 2047 she was married": "[DATE] she was married",
    }
    for text, expected in cases.items():
        assert scrub(text)[0] == expected, text


def test_months_years_and_small_numbers_alone_are_left_as_they_are():
    for text in (
        "The tap in our tole has been dry since Magh.",
        "In 2023 the ward built 3 taps for 1500 rupees.",
        "Jan 2020 meeting; she is 34 years old.",
    ):
        assert scrub(text)[0] == text


def test_labelled_and_degree_coordinates_become_gps():
    assert scrub("lat 27.7172 lon 85.3240")[0] == "[GPS] [GPS]"
    assert scrub("house at 27°42'N 85°19'E")[0] == "house at [GPS]"
    assert scrub("Kobo 27.717245 85.323961 1350.0 5.0 end")[0] == "Kobo [GPS] end"


def test_addresses_without_a_scheme_and_handles_are_scrubbed_but_emails_stay_emails():
    assert scrub("visit example.org/p/12 or www.x.org")[0] == "visit [URL] or [URL]"
    assert scrub("write sita@gmail.com")[0] == "write [EMAIL]"
    assert scrub("follow @sita_tamang (@ramkc)")[0] == "follow [NAME] ([NAME])"


def test_a_column_of_calendar_dates_is_not_taken_for_id_numbers():
    from indexer.disclosure.detect import classify_value

    for date in ("2025-01-15", "2081-03-32", "15/01/2025", "2025/1/5"):
        assert classify_value(date, ("NP",)) is None, date
    for number in ("27-01-72-05432", "123-456-789-0", "2025-13-40", "12-34-5678"):
        assert classify_value(number, ("NP",)) == "national_id", number


def test_digits_of_other_scripts_and_fullwidth_forms_are_read_as_digits():
    for text in (
        "फोन ９８４１２３４５６７",  # fullwidth
        "call ৯৮৪১২৩৪৫৬৭",  # Bengali
        "call ⁹⁸⁴¹²³⁴⁵⁶⁷",  # superscript
        "call 𝟗𝟖𝟒𝟏𝟐𝟑𝟒𝟓𝟔𝟕",  # mathematical bold
        "call ➒➑➍➊➋➌➍➎➏➐",  # circled
    ):
        out, counts = scrub(text)
        assert out.endswith("[PHONE]") and counts == {"PHONE": 1}, (text, out)
    assert scrub("ｓｉｔａ＠ｇｍａｉｌ．ｃｏｍ")[0] == "[EMAIL]"
    # folding that finds nothing leaves the text as it was written
    assert scrub("ﬁne ｔｅｘｔ, पानी टाढा छ")[0] == "ﬁne ｔｅｘｔ, पानी टाढा छ"


def test_numbers_with_odd_separators_and_spelt_out_addresses_are_scrubbed():
    cases = {
        "call 9  8  4  1  2  3  4  5  6  7 now": "call [ID] now",
        "ref 98,41,23,45,67": "ref [ID]",
        "no 9841_234_567": "no [ID]",
        "mail sita . tamang @ gmail . com": "mail [EMAIL]",
        "mail sita(at)gmail(dot)com": "mail [EMAIL]",
        "mail sita AT gmail DOT com": "mail [EMAIL]",
    }
    for text, expected in cases.items():
        assert scrub(text)[0] == expected, text
    for text in ("we met at school. Then we left", "spent 1,200,000 rupees", "ages 1, 2, 3 and 4"):
        assert scrub(text)[0] == text


def test_hemisphere_letters_dates_with_month_names_years_of_birth_and_accounts():
    cases = {
        "at 27.7172N, 85.3240E": "at [GPS]",
        "at N27.7172 E85.3240": "at [GPS]",
        "DOB 12-Mar-1931": "DOB [DATE]",
        "१२ मार्च 1931 मा": "[DATE] मा",
        "birth year: 1931": "birth year: [DATE]",
        "born in the year 1931": "born in the year [DATE]",
        "b. 1931": "b. [DATE]",
        "जन्म वर्ष २०४७": "जन्म वर्ष [DATE]",
        "facebook: sita.tamang.123": "facebook: [NAME]",
    }
    for text, expected in cases.items():
        assert scrub(text)[0] == expected, text
    assert scrub("I was born in the village")[0] == "I was born in the village"

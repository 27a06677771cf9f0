"""The course outline the home page lists, and the glossary behind every hover definition."""

import re

import pytest

from learnscope.lessons.course import CHAPTERS, chapter, chapters_on
from learnscope.lessons.glossary import ALIASES, GLOSSARY, definition, mark_terms


def test_the_course_has_the_guides_twelve_chapters_in_order():
    assert [c.number for c in CHAPTERS] == list(range(1, 13))
    titles = [c.title for c in CHAPTERS]
    assert titles[0] == "What a network is" and titles[7] == "MNIST, a real example"
    assert titles[11].startswith("Beyond")
    assert chapter(5).title == "Backpropagation"
    with pytest.raises(ValueError, match="chapters 1 to 12"):
        chapter(13)


def test_each_chapter_links_to_its_section_or_is_marked_coming():
    for c in CHAPTERS:
        assert c.coming == (c.link is None)
        if c.link is not None:
            page, _, section = c.link.partition("#")
            assert page.startswith("/") and section == c.anchor
    assert [c.number for c in chapters_on("/step")] == [3, 5, 7]
    assert [c.number for c in chapters_on("/playground")] == [1, 4, 6, 9, 10]
    assert [c.number for c in chapters_on("/transfer")] == [12] == [c.number for c in chapters_on("/neurosymbolic")]
    assert not [c.number for c in CHAPTERS if c.coming]


def test_mark_terms_marks_each_words_first_appearance_and_keeps_the_text():
    text = "Each epoch shows every example once; after ten epochs the learning rate halves."
    pieces = mark_terms(text)
    assert "".join(piece for piece, _ in pieces) == text
    marked = [(piece, term) for piece, term in pieces if term]
    assert marked == [("epoch", "epoch"), ("learning rate", "learning rate")]   # "epochs" is the same word again


def test_the_longest_term_wins_and_words_inside_other_words_are_left_alone():
    marked = [(p, t) for p, t in mark_terms("A hidden layer of ReLUs, unrelated to relays.") if t]
    assert marked == [("hidden layer", "hidden layer")]            # not "layer"; "ReLUs" and "relays" no term
    marked = [(p, t) for p, t in mark_terms("The ReLU and the Sigmoid") if t]
    assert marked == [("ReLU", "relu"), ("Sigmoid", "sigmoid")]     # any case, the piece keeps its case


def test_every_alias_points_at_a_definition_and_definitions_are_plain_sentences():
    assert set(ALIASES.values()) <= set(GLOSSARY)
    for term, text in GLOSSARY.items():
        assert term == term.lower() and text.endswith(".") and 20 < len(text) < 300, term
    assert definition("Epochs") == GLOSSARY["epoch"]
    with pytest.raises(KeyError, match="no entry for 'flux capacitor'"):
        definition("flux capacitor")


def test_the_course_summaries_use_glossary_words():
    words = {term for c in CHAPTERS for _, term in mark_terms(c.summary) if term}
    assert {"layer", "weight", "loss", "chain rule", "learning rate", "overfitting"} <= words
    assert all(re.match(r"^[A-Z0-9]", c.summary) for c in CHAPTERS)

"""Glossary hovers: the marked HTML is escaped, each marked word carries its definition, and an element built from
it reads (to tests and filters) as its plain text."""

from learnscope.lab.components.glossary import glossary_html
from learnscope.lessons.glossary import GLOSSARY


def test_marked_words_carry_their_definition_and_everything_else_is_escaped():
    html = glossary_html('The loss <b>fell</b> & the "learning rate" held.')
    assert "&lt;b&gt;fell&lt;/b&gt; &amp;" in html and "<b>" not in html
    assert f'data-definition="loss: {GLOSSARY["loss"]}"' in html.replace("&#x27;", "'")
    assert html.count('class="term"') == 2 and 'tabindex="0"' in html    # keyboard users can focus a term too


async def test_a_caption_is_found_by_its_plain_text(user):
    await user.open("/playground")
    await user.should_see("Loss on the training points and on the test points")   # a caption with marked terms

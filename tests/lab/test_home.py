from learnscope.lab.layout import LESSONS


async def test_home_lists_every_lesson_with_a_link(user):
    await user.open("/")
    await user.should_see("See how a neural network learns")
    for lesson in LESSONS:
        await user.should_see(lesson.title)
        await user.should_see(lesson.summary)


async def test_every_lesson_page_opens_with_its_title(user):
    for lesson in LESSONS:
        await user.open(lesson.path)
        await user.should_see(lesson.title)

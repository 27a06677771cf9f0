from learnscope.lab.layout import LESSONS
from learnscope.lessons.course import CHAPTERS


async def test_home_is_the_courses_table_of_contents(user):
    await user.open("/")
    await user.should_see("See how a neural network learns")
    for chapter in CHAPTERS:
        await user.should_see(chapter.title)
    await user.should_not_see("coming")                              # every chapter has its page now


async def test_every_lesson_page_opens_with_its_title(user):
    for lesson in LESSONS:
        await user.open(lesson.path)
        await user.should_see(lesson.title)

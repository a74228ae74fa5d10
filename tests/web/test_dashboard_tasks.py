"""Tasks in the browser: a writer assigns and closes one; a reader cannot (403 page); a POST without the form's
CSRF token is refused and changes nothing."""

from __future__ import annotations

from dashboard_users import READER, WRITER

from retain.services.tasks import TaskStatus, get_task, list_tasks
from retain.workspace import Workspace


def _open_task(company, offset: int = 0):
    return list_tasks(Workspace.open(company.path), status="open", limit=1, offset=offset).items[0]


def _token(visit) -> str:
    return visit.page.locator("form.who input[name=csrf_token]").get_attribute("value")


def test_a_writer_assigns_and_closes_a_task(visit, company):
    task = _open_task(company)
    visit.sign_in(*WRITER)
    visit.open("/dashboard/tasks")
    row = visit.page.locator(f'#tasks tr[data-task="{task.id}"]')
    row.locator("input[name=assignee]").fill("kim@example.com")
    row.locator("text=Assign").click()
    visit.page.wait_for_load_state("networkidle")
    assert get_task(Workspace.open(company.path), task.id).assignee == "kim@example.com"

    visit.page.locator(f'#tasks tr[data-task="{task.id}"] button[data-close="{task.id}"]').click()
    visit.page.wait_for_load_state("networkidle")
    closed = get_task(Workspace.open(company.path), task.id)
    assert closed.status is TaskStatus.CLOSED and closed.closed_at is not None
    assert visit.page.url.endswith("/dashboard/tasks")
    assert visit.page.locator(f'#tasks tr[data-task="{task.id}"]').count() == 0  # the open list no longer has it
    visit.open("/dashboard/tasks?status=closed")
    assert visit.page.locator(f'#tasks tr[data-task="{task.id}"] td.status').inner_text().startswith("closed")


def test_closing_from_the_customer_page_returns_there(visit, company):
    task = _open_task(company)
    visit.sign_in(*WRITER)
    visit.open(f"/dashboard/customers/{task.customer_id}")
    visit.page.locator(f'#customer-tasks button[data-close="{task.id}"]').click()
    visit.page.wait_for_load_state("networkidle")
    assert visit.page.url.endswith(f"/dashboard/customers/{task.customer_id}")
    assert visit.page.locator(f'#customer-tasks tr[data-task="{task.id}"]').get_attribute("class") == "closed"
    assert get_task(Workspace.open(company.path), task.id).status is TaskStatus.CLOSED


def test_a_reader_sees_no_forms_and_a_close_is_refused(visit, company):
    task = _open_task(company)
    visit.sign_in(*READER)
    visit.open("/dashboard/tasks")
    assert visit.page.locator("#tasks button").count() == 0
    assert "read-only" in visit.page.inner_text(".meta")
    answer = visit.page.request.post(
        f"{visit.base}/dashboard/tasks/{task.id}/close", form={"csrf_token": _token(visit)}, max_redirects=0
    )
    assert answer.status == 403
    assert "needs the write scope" in answer.text() and "rob is signed in with read" in answer.text()
    assert get_task(Workspace.open(company.path), task.id).status is TaskStatus.OPEN


def test_a_post_without_the_csrf_token_is_refused(visit, company):
    task = _open_task(company)
    visit.sign_in(*WRITER)
    visit.open("/dashboard/tasks")
    for form in ({}, {"csrf_token": "not-the-token"}):
        answer = visit.page.request.post(f"{visit.base}/dashboard/tasks/{task.id}/close", form=form, max_redirects=0)
        assert answer.status == 403 and "security token is missing or out of date" in answer.text()
    assert get_task(Workspace.open(company.path), task.id).status is TaskStatus.OPEN

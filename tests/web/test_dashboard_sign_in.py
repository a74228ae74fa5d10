"""Signing in and out in the browser: the cookie's attributes, a wrong password (which never says what was
wrong), an API key, sign-out ending the session, and pages without a session sending the browser to sign in."""

from __future__ import annotations

from dashboard_users import READER, WRITER

from retain.services.auth import SESSION_COOKIE


def test_a_page_without_a_session_goes_to_sign_in_and_back_after_it(visit):
    visit.open("/dashboard/tasks?status=closed")
    assert visit.page.url == f"{visit.base}/dashboard/sign-in?next=%2Fdashboard%2Ftasks%3Fstatus%3Dclosed"
    visit.page.fill("input[name=username]", WRITER[0])
    visit.page.fill("input[name=password]", WRITER[1])
    visit.page.click("button[type=submit]")
    visit.page.wait_for_load_state("networkidle")
    assert visit.page.url == f"{visit.base}/dashboard/tasks?status=closed"
    (cookie,) = [c for c in visit.page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"], cookie["secure"]) == (True, "Strict", "/", False)
    assert cookie["expires"] > 0  # expires with the session, not with the browser


def test_a_wrong_password_or_user_shows_one_message_and_no_session(visit):
    for username, password in ((WRITER[0], "not-the-password"), ("nobody", WRITER[1])):
        visit.sign_in(username, password)
        assert visit.page.url.endswith("/dashboard/sign-in")
        assert visit.page.inner_text(".message") == (
            "Wrong username or password, or an API key that is not valid. Check them and try again."
        )
        assert [c for c in visit.page.context.cookies() if c["name"] == SESSION_COOKIE] == []


def test_signing_in_with_an_api_key(visit, company):
    visit.open("/dashboard/sign-in")
    visit.page.fill("input[name=api_key]", company.reader_key)
    visit.page.click("button[type=submit]")
    visit.page.wait_for_load_state("networkidle")
    assert visit.page.url == f"{visit.base}/dashboard/"
    assert visit.page.inner_text("form.who span") == f"key:{company.reader_key.split('_')[1]} (read)"


def test_sign_out_ends_the_session(visit):
    visit.sign_in(*READER)
    (before,) = [c for c in visit.page.context.cookies() if c["name"] == SESSION_COOKIE]
    visit.page.click("form.who button")
    visit.page.wait_for_load_state("networkidle")
    assert visit.page.inner_text(".message") == "You are signed out."
    assert [c for c in visit.page.context.cookies() if c["name"] == SESSION_COOKIE] == []
    # The old cookie is worthless now: the session is gone from the state database.
    visit.page.context.add_cookies([{k: before[k] for k in ("name", "value", "domain", "path")}])
    visit.open("/dashboard/")
    assert "/dashboard/sign-in" in visit.page.url


def test_the_sign_in_form_needs_its_own_token(visit):
    visit.open("/dashboard/sign-in")
    answer = visit.page.request.post(
        f"{visit.base}/dashboard/sign-in", form={"username": WRITER[0], "password": WRITER[1]}, max_redirects=0
    )
    assert answer.status == 403 and SESSION_COOKIE not in answer.headers.get("set-cookie", "")

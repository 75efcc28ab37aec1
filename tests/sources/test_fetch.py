"""The safe fetcher: address checks (never a connection outside loopback), redirects, limits, timeouts, retries."""

import threading
import time

import httpx
import pytest

from retrieval.errors import FetchError
from retrieval.sources.fetch import FetchConfig, Fetcher, refused


class NoNetwork(httpx.BaseTransport):
    """A transport that fails the test if a request ever reaches it."""

    def handle_request(self, request):
        pytest.fail(f"a connection was attempted to {request.url}")


def _resolver(table):
    """A resolver seam: names to the addresses a (hostile) DNS would answer."""
    return lambda host, port: table[host]


@pytest.mark.parametrize("address", ["10.1.2.3", "169.254.169.254", "192.168.1.1", "127.0.0.1", "::1", "::ffff:10.0.0.1",
                                     "fd00::1", "224.0.0.1", "0.0.0.0", "100.64.0.1"])
def test_private_and_special_addresses_are_refused_before_any_connection(address):
    f = Fetcher(FetchConfig(), resolver=_resolver({"news.example": [address]}), transport=NoNetwork())
    with pytest.raises(FetchError, match=r"^http://news.example/a: refused, news.example is .*NEWSBOT_FETCH_ALLOW_PRIVATE"):
        f.fetch("http://news.example/a")


def test_one_private_address_among_public_ones_refuses_the_name():
    f = Fetcher(FetchConfig(), resolver=_resolver({"news.example": ["93.184.216.34", "10.0.0.7"]}), transport=NoNetwork())
    with pytest.raises(FetchError, match="refused"):
        f.fetch("https://news.example/")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://news.example/x", "gopher://news.example/", "http:///nohost",
                                 "javascript:alert(1)"])
def test_only_http_and_https_are_fetched(url):
    f = Fetcher(FetchConfig(), resolver=_resolver({}), transport=NoNetwork())
    with pytest.raises(FetchError, match="only http and https|not a valid URL"):
        f.fetch(url)


def test_a_redirect_to_a_private_address_is_refused_after_the_redirect():
    asked = []

    def answer(request):
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://metadata.internal/latest/"})

    f = Fetcher(FetchConfig(), resolver=_resolver({"news.example": ["93.184.216.34"], "metadata.internal": ["169.254.169.254"]}),
                transport=httpx.MockTransport(answer))
    with pytest.raises(FetchError, match="metadata.internal is a link-local address"):
        f.fetch("http://news.example/story")
    assert asked == ["http://93.184.216.34/story"]  # pinned to the checked address; the private one never asked


def test_the_connection_goes_to_the_checked_address_with_the_name_kept(site):
    port = site.url.rsplit(":", 1)[1]
    f = Fetcher(FetchConfig(allow_private=True), resolver=_resolver({"news.test": ["127.0.0.1"]}))
    got = f.fetch(f"http://news.test:{port}/articles/greve-sncf")
    assert got.status == 200 and b"SNCF" in got.body
    assert site.seen[-1]["host"] == f"news.test:{port}" and site.seen[-1]["user-agent"].startswith("newsbot/")


def test_allowed_addresses_pass_the_check():
    assert refused("93.184.216.34", False) is None and refused("2606:4700::1111", False) is None
    assert refused("127.0.0.1", True) is None and refused("224.0.0.1", True)


def test_redirects_are_followed_up_to_five(site, fetcher):
    assert b"SNCF" in fetcher.fetch(f"{site.url}/redirect/4").body
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher.fetch(f"{site.url}/redirect/5")


def test_a_30_mb_page_and_a_gzip_bomb_stop_at_the_limit(site, fetcher):
    for path in ("/big", "/bomb"):
        started = time.monotonic()
        with pytest.raises(FetchError, match=rf"{path}: more than the 1 MB limit"):
            fetcher.fetch(site.url + path)
        assert time.monotonic() - started < 3


def test_a_trickling_server_is_cut_off_at_the_deadline(site, fetcher):
    started = time.monotonic()
    with pytest.raises(FetchError, match="/trickle: too slow"):
        fetcher.fetch(f"{site.url}/trickle")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("path", ["/trickle", "/trickle-headers"])
def test_the_deadline_bounds_headers_and_body_together(site, path):
    # Every byte comes inside the read timeout: only the total deadline can stop these, and it stops them on time.
    fetcher = Fetcher(FetchConfig(allow_private=True, read_timeout_s=1.5, deadline_s=1.0), sleep=lambda s: None)
    started = time.monotonic()
    with pytest.raises(FetchError, match=rf"{path}: too slow \(over 1 s\)"):
        fetcher.fetch(f"{site.url}{path}")
    assert time.monotonic() - started < 2.5  # before the watchdog, trickled headers were never cut off
    fetcher.close()


def test_the_deadline_is_a_setting(tmp_path):
    from bot.settings import Settings

    assert Settings(data_dir=tmp_path).fetch_config().deadline_s == 30.0
    assert Settings(data_dir=tmp_path, fetch_deadline_s=4).fetch_config().deadline_s == 4.0


def test_a_server_that_does_not_answer_times_out(site, fetcher):
    with pytest.raises(FetchError, match="/slow: no answer in time"):
        fetcher.fetch(f"{site.url}/slow")


@pytest.mark.parametrize("status", [404, 500])
def test_error_statuses_name_the_url(site, fetcher, status):
    with pytest.raises(FetchError, match=rf"^{site.url}/status/{status}: HTTP {status}$"):
        fetcher.fetch(f"{site.url}/status/{status}")


def test_content_type_is_checked(site, fetcher):
    with pytest.raises(FetchError, match="content type image/png"):
        fetcher.fetch(f"{site.url}/image.png")


def test_retry_after_is_honoured_and_a_long_one_is_not_waited_for(site):
    waits = []
    f = Fetcher(FetchConfig(allow_private=True), sleep=waits.append)
    assert b"SNCF" in f.fetch(f"{site.url}/busy").body and waits == [1.0]
    with pytest.raises(FetchError, match="HTTP 503, asks to retry after 3600 s"):
        f.fetch(f"{site.url}/busy-long")
    assert waits == [1.0]


def test_conditional_get_returns_304(site, fetcher):
    first = fetcher.fetch(f"{site.url}/articles/greve-sncf")
    again = fetcher.fetch(f"{site.url}/articles/greve-sncf", etag=first.etag)
    assert first.status == 200 and again.not_modified and again.body == b""


def test_one_request_at_a_time_per_host(site, fetcher):
    threads = [threading.Thread(target=fetcher.fetch, args=(f"{site.url}/slowish",)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert site.hits["/slowish"] == 3 and site.max_active == 1

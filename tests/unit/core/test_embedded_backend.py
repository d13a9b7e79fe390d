import pytest

from harness.backends import BackendError, get_backend


def test_embedded_backend_starts_answers_and_stops():
    backend = get_backend("embedded")
    with backend:
        assert backend.healthy()
        backend.client("s3").create_bucket(Bucket="bucket-one")
        assert [b["Name"] for b in backend.client("s3").list_buckets()["Buckets"]] == ["bucket-one"]
        env = backend.lambda_environment()
        assert env["AWS_ENDPOINT_URL"] == backend.endpoint_url
        backend.reset()
        assert backend.client("s3").list_buckets()["Buckets"] == []
    assert not backend.healthy()


def test_unknown_backend_names_the_choices():
    with pytest.raises(BackendError, match="choose one of embedded, localstack, floci, aws"):
        get_backend("nope")

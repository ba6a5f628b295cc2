from helpers import sign_in


def test_each_role_lands_on_its_home(client, personas):
    sign_in(client, "cora")
    assert client.get("/").headers["Location"].endswith("/staff/")

"""``musicgen-gui --install-desktop-entry`` writes a menu entry and its icon for this user."""

from __future__ import annotations

from gui.app import main
from gui.desktop_entry import install_desktop_entry


def test_the_menu_entry_and_icon_are_written_under_the_users_data_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--install-desktop-entry"]) == 0
    entry = tmp_path / "applications" / "musicgen.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "musicgen.svg"
    text = entry.read_text()
    assert "[Desktop Entry]" in text and f"Icon={icon}" in text and "Exec=" in text
    assert icon.read_bytes().startswith(b"<") and str(entry) in capsys.readouterr().out
    assert install_desktop_entry(tmp_path) == [icon, entry]  # again: replaced, not duplicated


def test_a_planted_link_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    (tmp_path / "applications").mkdir()
    (tmp_path / "applications" / "musicgen.desktop").symlink_to(target)
    assert main(["--install-desktop-entry"]) == 2
    assert "is a link" in capsys.readouterr().err and target.read_text() == "mine"

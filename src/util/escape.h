#pragma once
// Outside text (files, remote documents, HTTP bodies, /proc names and
// command lines) made safe to show: a terminal, a table row, a CSV cell or a
// log line must never receive a control character from someone else, or an
// ESC sequence could clear the screen and a newline forge a log line.
//
// escape_controls() turns into visible text: C0 controls (\t \n \r, the
// rest as \xHH), DEL (\x7f), C1 controls U+0080..U+009F (\u0080..\u009f)
// and every byte that is not part of valid UTF-8 (\xHH). Everything else,
// printable UTF-8 included, is kept; a backslash is kept as it is, so the
// function is idempotent (escaping twice changes nothing) and can be
// applied both where text enters and again before it is shown.
// docs/reliability.md, "Input limits and escaping", lists where it is used.

#include <cstddef>
#include <string>
#include <string_view>

namespace ephport {

// How many bytes of outside text an error message quotes.
inline constexpr size_t kExcerptBytes = 60;

std::string escape_controls(std::string_view text);

// True when escape_controls(text) would change it.
bool needs_escaping(std::string_view text);

// escape_controls(text) cut to at most `max_bytes` bytes, never inside an
// escape or a UTF-8 character, with "…" appended when cut: the short,
// one-line form of outside text quoted in an error message.
std::string excerpt(std::string_view text, size_t max_bytes = kExcerptBytes);

}  // namespace ephport

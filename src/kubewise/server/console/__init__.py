"""The web console: server-rendered pages (Jinja2) over the same services as the API.

No build toolchain: HTML with one stylesheet, charts as inline SVG drawn on the server. Signing in
takes an API key ('read' or 'full'); the browser then holds an opaque session token in an
http-only, SameSite=Strict cookie (Secure over HTTPS) and every form carries the session's CSRF token.
"""

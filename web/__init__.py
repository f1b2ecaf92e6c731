"""What every web page and API call shares: the REST API's JSON errors and paging (`web.api`),
and the admin shell (`web.pages`): its template, its time display, its pager and its headers.

It knows no area: the areas (`ivr`, `tickets`, `oncall`) and staff access build on it.
"""

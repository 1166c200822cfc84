"""HTTP routes: parse the request, call one service inside one transaction, shape the answer. No SQL here."""

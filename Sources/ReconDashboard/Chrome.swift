/// What every page's frame shows: who is logged in, and the CSRF token its forms carry.
struct Chrome: Sendable {
    var user: String
    var csrf: String
}

/// The version of Bottle Supervise, in one place.
///
/// `bottle-supervise --version` prints it, the sidecar reports it to MCP
/// clients as its `serverInfo.version`, and `scripts/build-image` tags the
/// container image with it (`localhost/bottle-supervise:<version>`), so the
/// image an operator runs names the binary inside it. It lives in the domain
/// target because every other target depends on that one.
public enum ProductVersion {
    /// Semantic version of the release this source tree builds.
    public static let current = "1.0.0"
}

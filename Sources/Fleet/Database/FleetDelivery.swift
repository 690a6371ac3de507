import Queue

/// The owning host's word on a claim (``FleetStore/recordDelivery(host:bottle:id:_:)``).
public enum FleetDelivery: Sendable, Equatable {
    /// The claim is in the host's queue; the apply step's outcome when known.
    case delivered(ApplyOutcome?)
    /// The host's queue had another decision first (`decision`): the row takes
    /// it and keeps the claim in words.
    case superseded(by: Decision)
    /// The host refused to apply the claim (the proposal changed since it was
    /// reviewed, or is gone): why.
    case refused(reason: String)
}

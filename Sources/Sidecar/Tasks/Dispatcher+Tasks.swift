import FoundationEssentials
import Queue

extension RPCError {
    /// -32021 (2026-07-28): a task method from a client that did not declare the tasks extension.
    static let missingTasksCapability = RPCError(
        code: -32021,
        message:
            "Missing required client capability: declare \(ProposalTask.extensionID) in "
            + "_meta io.modelcontextprotocol/clientCapabilities.extensions to use tasks",
        data: .object([
            "requiredCapabilities": .object(["extensions": .object([ProposalTask.extensionID: .object([:])])])
        ]))

    static func unknownTask(_ text: String) -> RPCError {
        .invalidParams(
            "Failed to retrieve task: no task \(Escaped(String(text.prefix(64)))) in this bottle's queue "
                + "(task ids are the proposal ids the sidecar returned)")
    }
}

/// Task requests: every answer is computed from the queue files (see ``ProposalTask``).
extension Dispatcher {
    /// A `tools/call` answered with a task instead of a held call: the
    /// proposal is found or queued exactly as for a held call, then the
    /// client polls.
    func callAsTask(_ call: ToolCall, flavor: ProposalTask.Flavor) async -> Admission {
        if ToolCallRequest.toolName(call.message.params) == ProposalStatusTool.name {
            // proposal-status declares taskSupport "forbidden": it answers at
            // once and is itself how a task's outcome is asked for. A
            // 2025-11-25 task request for it gets -32601, as the spec asks of
            // a forbidden tool; under the 2026-07-28 extension the server
            // chooses the result's shape, so it is answered as a plain call.
            if flavor == .core {
                return .response(
                    RPCReply.error(
                        id: call.message.id,
                        RPCError(
                            code: -32601,
                            message:
                                "\(ProposalStatusTool.name) cannot be called as a task (its taskSupport is "
                                + "\"forbidden\"): call it without 'task'; it answers at once")))
            }
            var plain = call
            plain.context.taskFlavor = nil
            return await admit(plain)
        }
        let key = CallKey(session: call.context.session, id: call.message.id ?? .number(0))
        let proposal: Proposal
        do {
            switch try await holder.admit(call.message.params, key: key) {
            case .answered(_, let answered): proposal = answered
            case .held(let held):
                holder.detach(held)
                proposal = held.proposal
            case .invalid(let message):
                // Polymorphic results (2026-07-28) may be complete; a 2025-11-25 task request gets -32602.
                if flavor == .core { return .response(RPCReply.error(id: call.message.id, .invalidParams(message))) }
                return .response(answer(ToolAnswer.invalidInput(message), context: call.context))
            }
        } catch {
            return .response(RPCReply.error(id: call.message.id, error))
        }
        let decision = try? holder.queue.decision(proposal.id)
        let task = ProposalTask.task(proposal, decision, flavor: flavor)
        switch flavor {
        case .core:
            return .response(RPCReply.result(id: call.message.id, .object(["task": task])))
        case .extensionTasks:
            var created = task
            created["resultType"] = "task"
            return .response(RPCReply.result(id: call.message.id, created))
        }
    }

    /// `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`, `tasks/update`.
    func task(_ call: ToolCall) async -> Admission {
        let flavor: ProposalTask.Flavor = call.context.isModern ? .extensionTasks : .core
        let id = call.message.id
        if call.message.method == "tasks/list" { return .response(list(call)) }
        let taskID: String = call.message.params["taskId"]?.stringValue ?? ""
        let proposal: Proposal
        let decision: Decision?
        do {
            let proposalID = try ProposalID(taskID)
            proposal = try holder.queue.proposal(proposalID)
            decision = try holder.queue.decision(proposalID)
        } catch .invalidProposalID, .noSuchProposal {
            return .response(RPCReply.error(id: id, .unknownTask(taskID)))
        } catch {
            return .response(RPCReply.error(id: id, .internalError("could not read task \(taskID): \(error)")))
        }
        switch call.message.method {
        case "tasks/get":
            let task = ProposalTask.task(proposal, decision, flavor: flavor, inlineResult: true)
            let bytes =
                flavor == .core
                ? RPCReply.result(id: id, task) : answer(task, context: call.context)
            // The extension's tasks/get carries the result: once written, the decision was delivered.
            if flavor == .extensionTasks, decision?.isFinal == true { return .delivery(bytes, proposal) }
            return .response(bytes)
        case "tasks/result":
            var context = call.context
            context.relatedTask = proposal.id.rawValue
            let key = CallKey(session: context.session, id: id ?? .number(0))
            do {
                switch try holder.follow(proposal.id, key: key, bounded: false) {
                case .answered(let result, let proposal):
                    return .delivery(answer(result, context: context), proposal)
                case .held(let held): return .held(held, context)
                case .invalid(let message): return .response(RPCReply.error(id: id, .invalidParams(message)))
                }
            } catch {
                return .response(RPCReply.error(id: id, error))
            }
        case "tasks/cancel":
            return .response(await cancel(proposal, decision, flavor: flavor, context: call.context))
        default:  // tasks/update: nothing of ours ever asks the client for input
            return .response(answer(.object([:]), context: call.context))
        }
    }

    /// `tasks/cancel`: the agent no longer wants the change, so the
    /// undecided proposal is withdrawn (an explicit request, unlike a timeout
    /// or `notifications/cancelled`, which withdraw nothing).
    private func cancel(
        _ proposal: Proposal, _ decision: Decision?, flavor: ProposalTask.Flavor, context: Context
    ) async -> [UInt8] {
        var final = decision
        if decision == nil {
            let withdrawal = Decision(
                id: proposal.id, status: .withdrawn, notes: "the agent cancelled the task", decidedBy: "agent")
            do {
                try holder.queue.decide(withdrawal)
                holder.metrics.decision(.withdrawn)
                final = withdrawal
            } catch .alreadyDecided {
                final = try? holder.queue.decision(proposal.id)
            } catch {
                return RPCReply.error(id: context.id, .internalError("could not cancel task \(proposal.id): \(error)"))
            }
        } else if flavor == .core {
            let status = ProposalTask.status(of: decision, flavor: flavor)
            return RPCReply.error(
                id: context.id,
                .invalidParams("task \(proposal.id) is already \(status); a finished task cannot be cancelled"))
        }
        guard flavor == .core else { return answer(.object([:]), context: context) }
        return RPCReply.result(id: context.id, ProposalTask.task(proposal, final, flavor: .core))
    }

    /// How many tasks one `tasks/list` page holds: a bottle that has run for
    /// months has thousands of archived proposals, and one answer holding
    /// them all would be megabytes for a client that wants the latest.
    static let tasksPerPage = 100

    /// `tasks/list` (2025-11-25): every proposal of this bottle, live and
    /// archived, oldest first, ``tasksPerPage`` at a time; a damaged file
    /// hides only itself. The cursor is the last task id of the previous page
    /// (opaque to the client, as the spec's pagination asks): proposals are
    /// only ever added at the end of this order, so a page boundary never
    /// skips or repeats one.
    private func list(_ call: ToolCall) -> [UInt8] {
        let cursor: ProposalID?
        func invalid(_ text: String) -> [UInt8] {
            RPCReply.error(
                id: call.message.id,
                .invalidParams(
                    "invalid cursor \(Escaped(String(text.prefix(64)))): pass the nextCursor of the previous "
                        + "tasks/list answer, or no cursor for the first page"))
        }
        switch call.message.params["cursor"] {
        case nil, .null?: cursor = nil
        case .string(let text)?:
            guard let id = try? ProposalID(text) else { return invalid(text) }
            cursor = id
        default:
            return RPCReply.error(id: call.message.id, .invalidParams("tasks/list: 'cursor' must be a string"))
        }
        // An index, not a scan: a page reads its own proposals' files, whatever the archive holds.
        let found: (entries: [QueueEntry], next: ProposalID?)?
        do {
            found = try holder.queue.page(after: cursor, limit: Self.tasksPerPage)
        } catch {
            return RPCReply.error(id: call.message.id, .internalError("could not list tasks: \(error)"))
        }
        guard let page = found else { return invalid(cursor?.rawValue ?? "") }
        var result: JSONValue = [
            "tasks": .array(page.entries.map { ProposalTask.task($0.proposal, $0.decision, flavor: .core) })
        ]
        if let next = page.next { result["nextCursor"] = .string(next.rawValue) }
        return RPCReply.result(id: call.message.id, result)
    }
}

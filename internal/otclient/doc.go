// Package otclient is a Go client of PIA's live co-editing: it keeps a
// section's text in step with the server over one graphql-transport-ws
// websocket, as a browser editor does. The benchmark (cmd/piabench) and the
// end-to-end and crash tests of cmd/piad use it.
//
// # The protocol
//
// The socket speaks graphql-transport-ws (subprotocol
// "graphql-transport-ws", on /graphql):
//
//  1. The client sends connection_init with the payload
//     {"authToken": "<session token from signIn>"}; the server answers
//     connection_ack, or closes with 4403 for a token that is not valid.
//     The server pings; the client answers pong.
//  2. Every request is a subscribe message with its own id: queries and
//     mutations get one next and a complete, subscriptions a next per item.
//  3. A section is opened with the query node(id) { ... on Section { text
//     version } } and the subscription sectionEdits(sectionId, sinceVersion:
//     version): the server first replays every edit committed after that
//     version, then streams new ones, in strict version order. Each item
//     is { version operation clientId clientSeq }.
//  4. A local edit is an operation (package ot: retain, insert, delete
//     over code points) sent with the mutation editSection(input:
//     {sectionId, baseVersion, operation, clientId, clientSeq}): baseVersion
//     is the version the operation was made on, clientId is the client's id
//     (one per Client) and clientSeq a number it never reuses. The server
//     transforms the operation against what was committed after baseVersion,
//     commits it as the next version and answers with that version.
//
// # The client's states (as ot.js)
//
// The local text is always the server's text at Version, followed by the
// inflight operation, followed by the buffer.
//
//   - Synchronized: nothing pending. A local edit is applied and sent: it
//     becomes the inflight operation (AwaitingConfirm).
//   - AwaitingConfirm: one operation in flight. Further local edits are
//     applied and composed (ot.Compose) into the buffer
//     (AwaitingWithBuffer). Only one operation is ever in flight.
//   - A remote edit (another client's, version = Version+1) is transformed
//     with ot.Transform(remote, inflight) and then ot.Transform(remote',
//     buffer), which also moves inflight and buffer over it, and applied.
//     Transform's first argument wins ties, so a committed insert stays to
//     the left of a pending one at the same place, as the server decides
//     with Transform(committed, incoming).
//   - The acknowledgement is the editSection answer (version v) or the own
//     operation (same clientId and clientSeq) coming back on the stream,
//     whichever comes first. An answer may overtake the stream: then the
//     versions before v are applied from the stream first, and the ack takes
//     effect when Version reaches v-1. Then Version = v, and the buffer, if
//     any, is sent as the next inflight operation.
//   - Stream items at or below Version are skipped (a replay after a
//     resubscription); one that skips a version makes the client resubscribe
//     from Version. A RESUBSCRIBE error (the server's buffer for a slow
//     subscriber overflowed) does the same.
//
// # Reconnection
//
// When the socket drops, the client dials again (with a growing pause),
// resubscribes each section from its Version and resends its inflight
// operation exactly as first sent, with the same baseVersion and clientSeq.
// The server answers a resubmission with its first answer, and the replay
// may bring the operation back too: whichever comes first is the ack, the
// other is ignored. Nothing is applied twice and nothing is lost, even if
// the server restarted in between. Edits made while disconnected wait in
// the buffer.
//
// An editSection answered with INTERNAL is resent after a pause; any other
// refusal (NOT_DRAFT, BASE_LENGTH_MISMATCH...) stops the section, since the
// local text holds an edit the server will not take: Err says why, and the
// section must be opened again.
//
// # Fault injection
//
// For tests, Options.DropOnCommit closes the socket right after the server
// committed an operation and before the client read that (so the resend
// must be answered idempotently), Options.ReceiveDelay makes incoming
// messages late, Options.OnAnswer sees every answer to editSection, and
// Client.DropConnection, Client.Reconnects and Client.Resends drop the
// socket and count what followed.
package otclient

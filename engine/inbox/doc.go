// Package inbox is the agents' side of a handoff: queues, agents with a
// status and a capacity, the assignment of handed-off conversations,
// canned responses, queue business hours, and a hub of live events for
// the web inbox (server-sent events).
//
// The engine owns the conversation: a handoff node puts it in status
// agent with a queue, a priority and a note; engine.Assign, Transfer,
// AgentSend, AgentSendTemplate, AddNote and ResolveConversation change it,
// each one commit under the contact's lock. The inbox decides who gets
// what and keeps a view of it in memory, fed by the engine's commit
// observer (engine.Observer) and rebuilt from the store at Start.
//
// Assignment. A waiting conversation goes to an online agent of its queue
// with the fewest open conversations below their capacity; ties go to the
// agent assigned longest ago (round robin). Waiting conversations are
// served highest priority first, then oldest handoff first, across all
// queues. One pass at a time decides (Rebalance holds the assignment lock
// while it reserves places in memory), so concurrent handoffs can never
// put an agent over capacity; the reservations then commit in parallel
// (sharing the store's group commit), and one that fails (the
// conversation was resolved meanwhile) is given back. A pass runs after
// every handoff, release, status or profile change. Capacity binds the
// automatic assignment; a person's explicit claim or transfer may go
// beyond it (they chose to).
//
// Decisions:
//   - An agent going offline returns their open conversations to their
//     queues, unassigned, keeping their handoff time (so they are served
//     first by age) and priority; other online agents take them. An agent
//     who is away keeps what they hold but gets nothing new. Removing an
//     agent's profile is going offline for good.
//   - The handoff's no_agent_after fires on_no_agent only if no agent
//     holds the conversation when it comes due (engine/assign.go); an
//     agent's reply or template cancels it.
//   - Business hours govern the automatic reply, not the assignment: an
//     agent online at night still gets conversations. When a conversation
//     is still waiting after its handoff's pass and its queue is closed,
//     the customer gets the queue's closed reply once, saying when the
//     queue opens — only inside the 24-hour window (a free-form message;
//     nobody gets a template they did not ask for). A restart between a
//     handoff and its reply skips the reply.
//   - Unread counts are the customer's messages since the handoff, an
//     agent's last message or an agent opening the conversation, whichever
//     is latest. Openings are recorded (bucket "inbox_read"), so a restart
//     counts the same from the transcripts.
//   - A queue named by a flow but never created in the inbox still
//     exists: it has no hours and no agents until an admin adds them, and
//     its conversations wait.
//   - Numbers. Parley may serve several business numbers, and a
//     conversation runs on one (its contact's phone number id). A queue
//     serves the numbers it lists (Queue.Numbers; none, as in records
//     from before numbers existed: every number). Its agents get, see and
//     may claim only the conversations on those numbers, plus any
//     assigned to them. A handoff to a queue from a conversation on a
//     number it does not serve still enters that queue — the flow named
//     it, and the conversation's state is the engine's, not rewritten
//     behind the analyst's back — but is flagged (Item.OffNumber,
//     QueueView.OffNumber, an INFO log line): no agent of the queue gets
//     or sees it; admins see it and transfer it to a queue of its number,
//     or give it to an agent by hand. Meanwhile the handoff's
//     no_agent_after still fires, and the queue's closed reply still
//     goes out. A transfer to another queue must land on one that serves
//     the conversation's number (refused otherwise, admins included).
//     Changing a queue's numbers places its waiting conversations again;
//     conversations already held stay with their agents. CheckHandoffs
//     warns, at save and publish, of a handoff to a queue that leaves out
//     numbers the flow answers on.
//
// Records (agents, queues, canned responses, read marks) are kept through
// the Records interface: in the engine's bbolt file (buckets
// "inbox_agents", "inbox_queues", "inbox_canned", "inbox_read") or in
// PostgreSQL, whichever store Parley runs on.
package inbox

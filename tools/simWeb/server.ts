// The web simulator's server (`npm run sim:web`): serves the page and one WebSocket on 127.0.0.1
// only, runs the pump (engine.ts) and relays its messages to every open page; requests from a
// page (keys, plant disturbances, speed, program) are validated by the engine before they act.
// fastify serves the five static files from an explicit list (no directory is exposed) and
// @fastify/websocket carries the live stream.

import Fastify, { FastifyInstance } from "fastify"
import websocket from "@fastify/websocket"
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { BUBBLE_MAX_UL, Command, EngineMessage, KEY_NAMES, PROGRAMS, SENSOR_NAMES, SimEngine, Speed, SPEEDS } from "./engine"

const HERE = resolve(fileURLToPath(import.meta.url), "..")
const ROOT = resolve(HERE, "../..")

/** The only files served: URL path -> file and content type. */
const FILES: Record<string, { file: string; type: string }> = {
    "/": { file: join(HERE, "public/index.html"), type: "text/html; charset=utf-8" },
    "/app.js": { file: join(HERE, "public/app.js"), type: "text/javascript; charset=utf-8" },
    "/style.css": { file: join(HERE, "public/style.css"), type: "text/css; charset=utf-8" },
    "/uplot.js": { file: join(ROOT, "node_modules/uplot/dist/uPlot.iife.min.js"), type: "text/javascript; charset=utf-8" },
    "/uplot.css": { file: join(ROOT, "node_modules/uplot/dist/uPlot.min.css"), type: "text/css; charset=utf-8" },
}

export interface SimWebOptions {
    /** 0 = any free port (tests). */
    port: number
    speed?: Speed
    programId?: string
    log?: (line: string) => void
}

export interface SimWebServer {
    url: string
    engine: SimEngine
    close(): Promise<void>
}

/** A page may only connect from the page this server served (same host:port): a WebSocket is not
 *  bound by the same-origin rule, so any site open in the browser could otherwise drive the pump. */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
    if (!origin || !host) return false
    try {
        return new URL(origin).host === host
    } catch {
        return false
    }
}

export async function startSimWeb(o: SimWebOptions): Promise<SimWebServer> {
    const log = o.log ?? (() => undefined)
    const engine = new SimEngine({ speed: o.speed, programId: o.programId, log })
    await engine.start()
    const app: FastifyInstance = Fastify({ logger: false })
    await app.register(websocket)
    for (const [path, f] of Object.entries(FILES)) {
        app.get(path, async (_req, reply) => {
            reply.header("cache-control", "no-store").type(f.type)
            return readFileSync(f.file)
        })
    }
    app.get("/ws", { websocket: true }, (socket, req) => {
        if (!sameOrigin(req.headers.origin, req.headers.host)) {
            socket.close(1008, "origin not allowed")
            return
        }
        const send = (m: unknown) => {
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m))
        }
        send({
            type: "hello",
            keys: KEY_NAMES,
            programs: PROGRAMS.map(p => ({ id: p.id, label: p.label, panel: p.program === null, keys: p.keys })),
            speeds: SPEEDS,
            sensors: SENSOR_NAMES,
            bubbleMaxUl: BUBBLE_MAX_UL,
            status: engine.status(),
            screen: engine.screen(),
        })
        const off = engine.onMessage((m: EngineMessage) => send(m))
        socket.on("close", off)
        socket.on("message", async (data: Buffer) => {
            let c: Command
            try {
                c = JSON.parse(data.toString()) as Command
            } catch {
                send({ type: "error", message: "a request must be JSON" })
                return
            }
            try {
                await engine.command(c)
                send({ type: "ok", op: c.op })
            } catch (e) {
                send({ type: "error", message: (e as Error).message })
            }
        })
    })
    // Localhost only: the page drives a simulated medical device, nothing for the network.
    const address = await app.listen({ host: "127.0.0.1", port: o.port })
    return {
        url: address + "/",
        engine,
        close: async () => {
            await engine.close()
            await app.close()
        },
    }
}

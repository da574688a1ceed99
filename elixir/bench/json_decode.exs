# The cost of one EcsPeers.JSON.decode/1 of a small peer set, the call every poll and
# every AWS answer makes: `cd elixir && MIX_ENV=test mix run bench/json_decode.exs`.
doc = ~s({"version":1,"nodes":["shop@10.0.0.1","shop@10.0.0.2"]})
{:ok, _} = EcsPeers.JSON.decode(doc)
calls = 10_000
{us, _} = :timer.tc(fn -> for _ <- 1..calls, do: EcsPeers.JSON.decode(doc) end)

IO.puts("| calls | µs a call | runtime |")
IO.puts("|-------|-----------|---------|")
IO.puts("| #{calls} | #{Float.round(us / calls, 2)} | OTP #{System.otp_release()}, Elixir #{System.version()} |")

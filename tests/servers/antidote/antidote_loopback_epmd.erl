%% GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
%% Node discovery without epmd for test nodes that all live on one loopback address.
%%
%% Every test node carries the name the role gives it (antidote@<pod>.<service>), so their short
%% names collide in epmd. This module answers from a table instead: the file named by the
%% environment variable ANTIDOTE_LOOPBACK_NODES holds one line per node,
%% "antidote@antidote-dc1-0.antidote-dc1 127.0.0.2 DistPort". It is read on every lookup (with
%% prim_file: the file server is not up yet when the distribution starts), so nodes added later are found.
-module(antidote_loopback_epmd).

-export([start_link/0, register_node/2, register_node/3, port_please/2, port_please/3,
         listen_port_please/2, address_please/3, names/1]).

start_link() ->
    ignore.

register_node(Name, Port) ->
    register_node(Name, Port, inet_tcp).

register_node(_Name, _Port, _Driver) ->
    {ok, rand:uniform(3)}.

listen_port_please(Name, Host) ->
    case lookup(Name, Host) of
        {ok, _Address, Port} -> {ok, Port};
        error -> {ok, 0}
    end.

address_please(Name, Host, _Family) ->
    case lookup(Name, Host) of
        {ok, Address, Port} -> {ok, Address, Port, 5};
        error -> {error, nxdomain}
    end.

port_please(Name, Host) ->
    port_please(Name, Host, infinity).

port_please(_Name, _Host, _Timeout) ->
    noport.

names(_Host) ->
    {error, address}.

lookup(Name, Host) ->
    Wanted = to_list(Name) ++ "@" ++ to_list(Host),
    case prim_file:read_file(os:getenv("ANTIDOTE_LOOPBACK_NODES", "")) of
        {ok, Text} -> find(Wanted, string:lexemes(binary_to_list(Text), "\n"));
        {error, _} -> error
    end.

find(_Wanted, []) ->
    error;
find(Wanted, [Line | Rest]) ->
    case string:lexemes(Line, " \t") of
        [Wanted, Address, Port] ->
            {ok, Ip} = inet:parse_address(Address),
            {ok, Ip, list_to_integer(Port)};
        _ ->
            find(Wanted, Rest)
    end.

to_list(Value) when is_atom(Value) -> atom_to_list(Value);
to_list(Value) when is_list(Value) -> Value;
to_list(Value) when is_tuple(Value) -> inet:ntoa(Value).

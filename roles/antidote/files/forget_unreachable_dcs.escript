%% An escript (its first line is skipped): <ERTS>/bin/escript forget_unreachable_dcs.escript <metadata file>
%% Run by the antidote pods' init container, before the node starts, on its stored metadata
%% (<data_dir>/a_stable_meta_data_table). AntidoteDB 0.2.2 reconnects a restarted node to every DC stored
%% there, at the addresses stored with it, and exits when one does not answer
%% (inter_dc_manager:check_node_restart). After a teardown and re-deploy every pod has a new address, so
%% no stored address answers and the nodes could never start again. This forgets the DCs none of whose
%% publisher addresses answers; the role's connect step gives the DCs each other's current addresses.

main([Path]) ->
    case filelib:is_regular(Path) of
        true -> forget_unreachable(Path);
        false -> io:format("~s does not exist yet: a first start, nothing to check~n", [Path])
    end.

forget_unreachable(Path) ->
    {ok, Table} = dets:open_file(stored_meta_data, [{file, Path}, {type, set}]),
    case dets:lookup(Table, external_descriptors) of
        [{external_descriptors, Stored}] ->
            Kept = dict:filter(fun(_Id, Descriptor) -> answers(Descriptor) end, Stored),
            [io:format("forgot DC ~p: none of its stored addresses answers~n", [Id])
             || Id <- dict:fetch_keys(Stored), not dict:is_key(Id, Kept)],
            io:format("~b of ~b stored DCs answer~n", [dict:size(Kept), dict:size(Stored)]),
            ok = dets:insert(Table, {external_descriptors, Kept});
        [] ->
            io:format("no DC stored~n")
    end,
    ok = dets:close(Table).

answers({descriptor, _Id, _Partitions, Publishers, _LogReaders}) ->
    lists:any(fun(Address) -> answers(Address) end, lists:append(Publishers));
answers({Address, Port}) ->
    case gen_tcp:connect(Address, Port, [], 2000) of
        {ok, Socket} -> gen_tcp:close(Socket), true;
        {error, _} -> false
    end.
